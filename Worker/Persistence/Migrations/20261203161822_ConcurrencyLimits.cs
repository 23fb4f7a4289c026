using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// Fleet-wide limits: <c>jobs.concurrency_key</c> (a nullable column, added without rewriting the table), the partial index
/// a limited claim counts Running jobs by (built concurrently, so writes to <c>jobs</c> go on meanwhile), and the new, empty
/// <c>job_starts</c> table of rate-limited starts. Workers of the previous version ignore all three.
/// </summary>
internal sealed partial class ConcurrencyLimits : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<string>(
            name: "concurrency_key",
            table: "jobs",
            type: "character varying(200)",
            maxLength: 200,
            nullable: true);

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
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "job_starts");
        migrationBuilder.DropIndex(name: "ix_jobs_running_type_key", table: "jobs");
        migrationBuilder.DropColumn(name: "concurrency_key", table: "jobs");
    }
}
