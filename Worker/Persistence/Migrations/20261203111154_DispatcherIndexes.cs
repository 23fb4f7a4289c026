using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// The dispatcher's statement reads one partial index for unsent due jobs and one for sent ones by send time, in place of
/// one index over every Pending job through which each tick read past the whole sent-and-waiting backlog. The indexes are
/// built and dropped concurrently, outside the migration's transaction, so that writers to <c>jobs</c> are never stopped
/// for the build; an interrupted run (which leaves an invalid index) is simply run again, as each step drops what a
/// previous attempt left first.
/// </summary>
internal sealed partial class DispatcherIndexes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        DropConcurrently(migrationBuilder, "ix_jobs_unsent_queue_run_at");
        migrationBuilder.CreateIndex(
                name: "ix_jobs_unsent_queue_run_at",
                table: "jobs",
                columns: ["queue", "run_at"],
                filter: "state = 'Pending' AND dispatched_at IS NULL")
            .Annotation("Npgsql:CreatedConcurrently", true);

        DropConcurrently(migrationBuilder, "ix_jobs_sent_queue_dispatched_at");
        migrationBuilder.CreateIndex(
                name: "ix_jobs_sent_queue_dispatched_at",
                table: "jobs",
                columns: ["queue", "dispatched_at"],
                filter: "state = 'Pending' AND dispatched_at IS NOT NULL")
            .Annotation("Npgsql:CreatedConcurrently", true);

        // Only once both replacements exist, so that no tick runs without an index.
        DropConcurrently(migrationBuilder, "ix_jobs_pending_queue_run_at");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        DropConcurrently(migrationBuilder, "ix_jobs_pending_queue_run_at");
        migrationBuilder.CreateIndex(
                name: "ix_jobs_pending_queue_run_at",
                table: "jobs",
                columns: ["queue", "run_at"],
                filter: "state = 'Pending'")
            .Annotation("Npgsql:CreatedConcurrently", true);

        DropConcurrently(migrationBuilder, "ix_jobs_sent_queue_dispatched_at");
        DropConcurrently(migrationBuilder, "ix_jobs_unsent_queue_run_at");
    }

    /// <summary>EF's DropIndex takes an exclusive lock on the table and fails on an index that is not there.</summary>
    private static void DropConcurrently(MigrationBuilder migrationBuilder, string index) =>
        migrationBuilder.Sql($"DROP INDEX CONCURRENTLY IF EXISTS {index};", suppressTransaction: true);
}
