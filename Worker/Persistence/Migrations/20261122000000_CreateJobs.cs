using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>The jobs table. Written by hand, as were the migrations up to OperatorViews, before the EF design-time tools restored here.</summary>
[DbContext(typeof(JobDbContext))]
[Migration("20261122000000_CreateJobs")]
internal sealed class CreateJobs : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "jobs",
            columns: table => new
            {
                id = table.Column<Guid>(type: "uuid", nullable: false),
                type = table.Column<string>(type: "character varying(100)", maxLength: JobSchema.MaxTypeLength, nullable: false),
                payload = table.Column<string>(type: "jsonb", nullable: false),
                state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                attempt = table.Column<int>(type: "integer", nullable: false),
                max_attempts = table.Column<int>(type: "integer", nullable: false),
                timeout = table.Column<TimeSpan>(type: "interval", nullable: true),
                correlation_id = table.Column<Guid>(type: "uuid", nullable: true),
                owner = table.Column<string>(type: "character varying(200)", maxLength: JobSchema.MaxOwnerLength, nullable: true),
                lease_expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                error = table.Column<string>(type: "text", nullable: true),
                result = table.Column<string>(type: "jsonb", nullable: true),
                created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                started_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                finished_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
            },
            constraints: table => table.PrimaryKey("pk_jobs", x => x.id));

        migrationBuilder.CreateIndex(name: "ix_jobs_state_updated_at", table: "jobs", columns: ["state", "updated_at"]);
        migrationBuilder.CreateIndex(name: "ix_jobs_owner_running", table: "jobs", column: "owner", filter: "state = 'Running'");
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable(name: "jobs");
}
