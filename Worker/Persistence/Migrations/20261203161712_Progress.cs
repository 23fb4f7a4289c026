using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// A handler's progress and checkpoint on its job's row. Nullable columns with no default: PostgreSQL adds them without
/// rewriting <c>jobs</c>, and workers of the previous version neither read nor write them.
/// </summary>
internal sealed partial class Progress : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<long>(name: "progress_completed", table: "jobs", type: "bigint", nullable: true);
        migrationBuilder.AddColumn<long>(name: "progress_total", table: "jobs", type: "bigint", nullable: true);
        migrationBuilder.AddColumn<string>(name: "progress_message", table: "jobs", type: "text", nullable: true);
        migrationBuilder.AddColumn<DateTime>(name: "progress_updated_at", table: "jobs", type: "timestamp with time zone", nullable: true);
        migrationBuilder.AddColumn<string>(name: "checkpoint", table: "jobs", type: "jsonb", nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropColumn(name: "progress_completed", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_total", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_message", table: "jobs");
        migrationBuilder.DropColumn(name: "progress_updated_at", table: "jobs");
        migrationBuilder.DropColumn(name: "checkpoint", table: "jobs");
    }
}
