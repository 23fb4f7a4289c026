using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// The accept checks for the client's transactional enqueue (0.14): <c>jobs.unchecked</c>, true on a row the client
/// wrote until a worker's dispatcher has applied the checks a SubmitJob gets, and the partial index of those rows that
/// the dispatcher reads every tick. The column has a constant default (false, which every existing row and every worker's
/// own insert takes), so PostgreSQL adds it without rewriting <c>jobs</c>; the index is built concurrently (writes to
/// <c>jobs</c> go on meanwhile). Workers of 0.13 ignore the column, and would send an unchecked row unchecked: roll
/// every replica to 0.14 before clients enqueue in a transaction.
/// </summary>
internal sealed partial class EnqueueChecks : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<bool>(name: "unchecked", table: "jobs", type: "boolean", nullable: false, defaultValue: false);

        migrationBuilder.CreateIndex(
                name: "ix_jobs_unchecked_queue_created_at",
                table: "jobs",
                columns: ["queue", "created_at"],
                filter: "unchecked")
            .Annotation("Npgsql:CreatedConcurrently", true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_unchecked_queue_created_at", suppressTransaction: true);
        migrationBuilder.DropColumn(name: "unchecked", table: "jobs");
    }
}
