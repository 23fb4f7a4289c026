using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// Flow control (0.13): a job's priority, its concurrency key, its progress and checkpoint; the dispatcher's index of
/// unsent jobs in priority order; the index a limited claim counts Running jobs by; and <c>job_starts</c>, the starts of
/// rate-limited types. Every new column is nullable or has a constant default, so PostgreSQL adds it without rewriting
/// <c>jobs</c>; the indexes (and <c>ix_jobs_pending_type_dispatched_at</c>, the Pending jobs of one type, which the
/// dispatcher's take of a limited type reads) are built concurrently (writes to <c>jobs</c> go on meanwhile), and the new dispatcher index
/// exists before the old one is dropped, so a dispatcher always has one to read. Workers of 0.12 ignore all of it.
/// </summary>
internal sealed partial class FlowControl : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<short>(name: "priority", table: "jobs", type: "smallint", nullable: false, defaultValue: (short)0);
        migrationBuilder.AddColumn<string>(name: "concurrency_key", table: "jobs", type: "character varying(200)", maxLength: 200, nullable: true);
        migrationBuilder.AddColumn<long>(name: "progress_completed", table: "jobs", type: "bigint", nullable: true);
        migrationBuilder.AddColumn<long>(name: "progress_total", table: "jobs", type: "bigint", nullable: true);
        migrationBuilder.AddColumn<string>(name: "progress_message", table: "jobs", type: "text", nullable: true);
        migrationBuilder.AddColumn<DateTime>(name: "progress_updated_at", table: "jobs", type: "timestamp with time zone", nullable: true);
        migrationBuilder.AddColumn<string>(name: "checkpoint", table: "jobs", type: "jsonb", nullable: true);

        migrationBuilder.CreateTable(
            name: "job_starts",
            columns: table => new
            {
                type = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                started_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                job_id = table.Column<Guid>(type: "uuid", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_job_starts", x => new { x.type, x.started_at, x.job_id }));

        migrationBuilder.CreateIndex(
                name: "ix_jobs_running_type_key",
                table: "jobs",
                columns: ["type", "concurrency_key"],
                filter: "state = 'Running'")
            .Annotation("Npgsql:CreatedConcurrently", true);

        migrationBuilder.CreateIndex(
                name: "ix_jobs_pending_type_dispatched_at",
                table: "jobs",
                columns: ["type", "dispatched_at"],
                filter: "state = 'Pending'")
            .Annotation("Npgsql:CreatedConcurrently", true);

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
        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_running_type_key", suppressTransaction: true);
        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_pending_type_dispatched_at", suppressTransaction: true);
        migrationBuilder.DropTable(name: "job_starts");
        migrationBuilder.DropColumn(name: "checkpoint", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_updated_at", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_message", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_total", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_completed", table: "jobs");
        migrationBuilder.DropColumn(name: "concurrency_key", table: "jobs");
        migrationBuilder.DropColumn(name: "priority", table: "jobs");
    }
}
