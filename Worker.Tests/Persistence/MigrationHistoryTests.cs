using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

// Deliberately outside JobWorker.Tests: the SetUpFixture there needs PostgreSQL and RabbitMQ, and these tests only
// compare the EF model with the migrations compiled into the worker.
namespace JobWorker.Persistence.Tests;

/// <summary>The migrations, with their model snapshot, cover the EF model, and the deployed history stays as it was.</summary>
[TestFixture]
public sealed class MigrationHistoryTests
{
    [Test, Description("The model snapshot is what `dotnet ef migrations add` diffs against: a model change with no migration fails here, and the worker's own MigrateAsync would refuse it.")]
    public void Model_has_no_changes_that_no_migration_covers()
    {
        using var db = new JobDbContextDesignTimeFactory().CreateDbContext([]);

        Assert.That(
            db.Database.HasPendingModelChanges(),
            Is.False,
            "The EF model has changes no migration covers: run `dotnet ef migrations add <Name> --project Worker`.");
    }

    [Test, Description("Deployed databases record these ids in __EFMigrationsHistory: renaming one would re-run it.")]
    public void Migrations_start_with_the_hand_written_history()
    {
        using var db = new JobDbContextDesignTimeFactory().CreateDbContext([]);

        Assert.That(
            db.Database.GetMigrations().Take(3),
            Is.EqualTo(new[] { "20261122000000_CreateJobs", "20261201000000_JobLedger", "20261202000000_OperatorViews" }));
    }

    [Test, Description("`dotnet ef migrations add` writes a public class; in the JobWorker package it would become API that hosts see and that cannot change without a major version.")]
    public void Migrations_are_not_part_of_the_package_API()
    {
        var exported = typeof(JobDbContext).Assembly.GetExportedTypes()
            .Where(t => t.IsSubclassOf(typeof(Migration)) || t.IsSubclassOf(typeof(ModelSnapshot)))
            .Select(t => t.FullName);

        Assert.That(exported, Is.Empty, "Make the migration class `internal sealed partial class` (dotnet ef writes it public).");
    }
}
