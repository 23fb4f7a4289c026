using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// The <c>queues</c> table: an operator's pause of a queue, kept in the ledger so every replica reads it each tick and it
/// survives restarts. A new, empty table: no lock on <c>jobs</c>, and workers of the previous version ignore it.
/// </summary>
internal sealed partial class QueuePauses : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "queues",
            columns: table => new
            {
                name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                paused_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                paused_by = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true),
                reason = table.Column<string>(type: "text", nullable: true),
            },
            constraints: table => table.PrimaryKey("pk_queues", x => x.name));
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable(name: "queues");
}
