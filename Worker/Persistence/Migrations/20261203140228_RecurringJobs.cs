using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// The <c>recurring_jobs</c> table: schedules and their next run, which the replicas of each queue fire with a
/// compare-and-set. A new, empty table: no lock on <c>jobs</c>, and workers of the previous version ignore it.
/// </summary>
internal sealed partial class RecurringJobs : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "recurring_jobs",
            columns: table => new
            {
                key = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                queue = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                cron = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                time_zone = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                type = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false),
                payload = table.Column<string>(type: "jsonb", nullable: false),
                max_attempts = table.Column<int>(type: "integer", nullable: true),
                timeout = table.Column<TimeSpan>(type: "interval", nullable: true),
                overlap = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, defaultValue: "Skip"),
                catch_up = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, defaultValue: "None"),
                catch_up_window = table.Column<TimeSpan>(type: "interval", nullable: true),
                source = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                enabled = table.Column<bool>(type: "boolean", nullable: false),
                paused_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                paused_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                next_run_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                last_occurrence_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                last_job_id = table.Column<Guid>(type: "uuid", nullable: true),
                last_skipped_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
            },
            constraints: table =>
            {
                table.PrimaryKey("pk_recurring_jobs", x => x.key);
            });

        migrationBuilder.CreateIndex(
            name: "ix_recurring_jobs_due",
            table: "recurring_jobs",
            columns: new[] { "queue", "next_run_at" },
            filter: "enabled AND paused_at IS NULL");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(
            name: "recurring_jobs");
    }
}
