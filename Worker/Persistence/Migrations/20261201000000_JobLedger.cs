using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// The ledger: the job's queue, when a Pending job is due and whether a message for it is queued, durable cancel requests, the claim
/// token, the event outbox, and the partial indexes the dispatcher, recovery and purge read through.
/// </summary>
[DbContext(typeof(JobDbContext))]
[Migration("20261201000000_JobLedger")]
internal sealed class JobLedger : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<string>(name: "queue", table: "jobs", type: "character varying(200)", maxLength: JobSchema.MaxQueueLength, nullable: false, defaultValue: "");
        migrationBuilder.AddColumn<DateTime>(name: "run_at", table: "jobs", type: "timestamp with time zone", nullable: false, defaultValueSql: "now()");
        migrationBuilder.AddColumn<DateTime>(name: "dispatched_at", table: "jobs", type: "timestamp with time zone", nullable: true);
        migrationBuilder.AddColumn<string>(name: "cancel_reason", table: "jobs", type: "text", nullable: true);
        migrationBuilder.AddColumn<Guid>(name: "claim_token", table: "jobs", type: "uuid", nullable: true);

        migrationBuilder.DropIndex(name: "ix_jobs_owner_running", table: "jobs");
        migrationBuilder.CreateIndex(name: "ix_jobs_pending_queue_run_at", table: "jobs", columns: ["queue", "run_at"], filter: "state = 'Pending'");
        migrationBuilder.CreateIndex(name: "ix_jobs_running_lease", table: "jobs", column: "lease_expires_at", filter: "state = 'Running'");
        migrationBuilder.CreateIndex(name: "ix_jobs_finished_at", table: "jobs", column: "finished_at", filter: "finished_at IS NOT NULL");

        migrationBuilder.CreateTable(
            name: "job_events",
            columns: table => new
            {
                job_id = table.Column<Guid>(type: "uuid", nullable: false),
                kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                attempt = table.Column<int>(type: "integer", nullable: false),
                will_retry = table.Column<bool>(type: "boolean", nullable: false),
                error = table.Column<string>(type: "text", nullable: true),
                worker_id = table.Column<string>(type: "character varying(200)", maxLength: JobSchema.MaxOwnerLength, nullable: true),
                occurred_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                relay_after = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("pk_job_events", x => new { x.job_id, x.kind, x.attempt });
                table.ForeignKey("fk_job_events_jobs", x => x.job_id, "jobs", "id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex(name: "ix_job_events_relay_after", table: "job_events", column: "relay_after");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "job_events");
        migrationBuilder.DropIndex(name: "ix_jobs_pending_queue_run_at", table: "jobs");
        migrationBuilder.DropIndex(name: "ix_jobs_running_lease", table: "jobs");
        migrationBuilder.DropIndex(name: "ix_jobs_finished_at", table: "jobs");
        migrationBuilder.CreateIndex(name: "ix_jobs_owner_running", table: "jobs", column: "owner", filter: "state = 'Running'");
        migrationBuilder.DropColumn(name: "queue", table: "jobs");
        migrationBuilder.DropColumn(name: "run_at", table: "jobs");
        migrationBuilder.DropColumn(name: "dispatched_at", table: "jobs");
        migrationBuilder.DropColumn(name: "cancel_reason", table: "jobs");
        migrationBuilder.DropColumn(name: "claim_token", table: "jobs");
    }
}
