using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// <c>jobs.priority</c> (0 to 9, higher first), and the dispatcher's index of unsent jobs in its new order (queue,
/// priority descending, due time). The column has a constant default, so adding it rewrites nothing. The new index is
/// built concurrently before the old one is dropped, so the dispatcher always has one to read and no write to
/// <c>jobs</c> waits for the build.
/// </summary>
internal sealed partial class JobPriority : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<short>(
            name: "priority",
            table: "jobs",
            type: "smallint",
            nullable: false,
            defaultValue: (short)0);

        migrationBuilder.CreateIndex(
                name: "ix_jobs_unsent_queue_priority_run_at",
                table: "jobs",
                columns: ["queue", "priority", "run_at"],
                descending: [false, true, false],
                filter: "state = 'Pending' AND dispatched_at IS NULL")
            .Annotation("Npgsql:CreatedConcurrently", true);

        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_unsent_queue_run_at", suppressTransaction: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateIndex(
                name: "ix_jobs_unsent_queue_run_at",
                table: "jobs",
                columns: ["queue", "run_at"],
                filter: "state = 'Pending' AND dispatched_at IS NULL")
            .Annotation("Npgsql:CreatedConcurrently", true);

        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_unsent_queue_priority_run_at", suppressTransaction: true);
        migrationBuilder.DropColumn(name: "priority", table: "jobs");
    }
}
