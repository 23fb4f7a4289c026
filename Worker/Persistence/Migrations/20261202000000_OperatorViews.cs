using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// What operators read (the dashboard, <c>jobs list</c>): job events stay as the job's history once published, the
/// <c>workers</c> table holds each replica's heartbeat, and the jobs list reads newest first through indexes, with a
/// trigram index for searching errors; the finished-at index carries the state, so counts by time need no table reads.
/// </summary>
[DbContext(typeof(JobDbContext))]
[Migration("20261202000000_OperatorViews")]
internal sealed class OperatorViews : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // pg_trgm is a trusted extension: the database's owner may create it without being a superuser.
        migrationBuilder.Sql("CREATE EXTENSION IF NOT EXISTS pg_trgm;");

        migrationBuilder.AddColumn<DateTime>(name: "published_at", table: "job_events", type: "timestamp with time zone", nullable: true);
        migrationBuilder.DropIndex(name: "ix_job_events_relay_after", table: "job_events");
        migrationBuilder.CreateIndex(name: "ix_job_events_unpublished", table: "job_events", column: "relay_after", filter: "published_at IS NULL");

        migrationBuilder.DropIndex(name: "ix_jobs_state_updated_at", table: "jobs");
        migrationBuilder.DropIndex(name: "ix_jobs_finished_at", table: "jobs");
        migrationBuilder.CreateIndex(name: "ix_jobs_finished_at", table: "jobs", columns: ["finished_at", "state"], filter: "finished_at IS NOT NULL");
        migrationBuilder.Sql("""
            CREATE INDEX ix_jobs_state_created_at ON jobs (state, created_at DESC, id DESC);
            CREATE INDEX ix_jobs_type_created_at ON jobs (type, created_at DESC, id DESC);
            CREATE INDEX ix_jobs_error_trgm ON jobs USING gin (error gin_trgm_ops) WHERE error IS NOT NULL;
            """);

        migrationBuilder.CreateTable(
            name: "workers",
            columns: table => new
            {
                id = table.Column<string>(type: "character varying(200)", maxLength: JobSchema.MaxOwnerLength, nullable: false),
                queue = table.Column<string>(type: "character varying(200)", maxLength: JobSchema.MaxQueueLength, nullable: false),
                slots = table.Column<int>(type: "integer", nullable: false),
                busy = table.Column<int>(type: "integer", nullable: false),
                started_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                last_seen_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                last_progress_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                stopped_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_workers", x => x.id));
        migrationBuilder.CreateIndex(name: "ix_workers_last_seen_at", table: "workers", column: "last_seen_at");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "workers");
        migrationBuilder.Sql("""
            DROP INDEX ix_jobs_error_trgm;
            DROP INDEX ix_jobs_type_created_at;
            DROP INDEX ix_jobs_state_created_at;
            """);
        migrationBuilder.CreateIndex(name: "ix_jobs_state_updated_at", table: "jobs", columns: ["state", "updated_at"]);
        migrationBuilder.DropIndex(name: "ix_jobs_finished_at", table: "jobs");
        migrationBuilder.CreateIndex(name: "ix_jobs_finished_at", table: "jobs", column: "finished_at", filter: "finished_at IS NOT NULL");
        migrationBuilder.DropIndex(name: "ix_job_events_unpublished", table: "job_events");
        migrationBuilder.Sql("DELETE FROM job_events WHERE published_at IS NOT NULL;");
        migrationBuilder.DropColumn(name: "published_at", table: "job_events");
        migrationBuilder.CreateIndex(name: "ix_job_events_relay_after", table: "job_events", column: "relay_after");
    }
}
