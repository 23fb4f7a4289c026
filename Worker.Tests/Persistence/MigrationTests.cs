using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace JobWorker.Tests.Persistence;

/// <summary>
/// The migrations must build exactly the schema the EF model describes. `dotnet ef migrations has-pending-model-changes`
/// (and <c>MigrationHistoryTests</c>) compare the model with the snapshot only; SQL written by
/// hand in a migration (<c>migrationBuilder.Sql</c>) is checked nowhere else.
/// </summary>
public sealed class MigrationTests
{
    [Test]
    public async Task The_migrated_database_matches_the_EF_model()
    {
        var migrated = $"{TestEnvironment.DatabaseName}_migrated";
        var fromModel = $"{TestEnvironment.DatabaseName}_model";
        await TestEnvironment.RecreateDatabaseAsync(migrated);
        await TestEnvironment.RecreateDatabaseAsync(fromModel);
        try
        {
            await using (var db = TestEnvironment.CreateContextFactory(ConnectionTo(migrated)).CreateDbContext())
            {
                await db.Database.MigrateAsync();
                Assert.That(await db.Database.GetPendingMigrationsAsync(), Is.Empty);
            }

            await using (var db = TestEnvironment.CreateContextFactory(ConnectionTo(fromModel)).CreateDbContext())
            {
                await db.Database.EnsureCreatedAsync();
            }

            var expected = await DescribeSchemaAsync(fromModel);
            var actual = await DescribeSchemaAsync(migrated);
            Assert.That(expected, Is.Not.Empty);
            Assert.That(actual, Is.EqualTo(expected));
        }
        finally
        {
            await TestEnvironment.DropDatabaseAsync(migrated);
            await TestEnvironment.DropDatabaseAsync(fromModel);
        }
    }

    private static string ConnectionTo(string database) =>
        new NpgsqlConnectionStringBuilder(TestEnvironment.ConnectionString()) { Database = database, Pooling = false }.ConnectionString;

    /// <summary>Columns (name, type, nullability, default), indexes and constraints of the public schema, bar EF's history table.</summary>
    private static async Task<List<string>> DescribeSchemaAsync(string database)
    {
        await using var connection = new NpgsqlConnection(ConnectionTo(database));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type
                   || coalesce('(' || character_maximum_length || ')', '') || ' nullable=' || is_nullable
                   || ' default=' || coalesce(column_default, '-')
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes
            WHERE schemaname = 'public' AND tablename <> '__EFMigrationsHistory'
            UNION ALL
            SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
            FROM pg_constraint
            WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '"__EFMigrationsHistory"'
            ORDER BY 1
            """, connection);
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
