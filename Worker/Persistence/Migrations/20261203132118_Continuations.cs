using Microsoft.EntityFrameworkCore.Migrations;

namespace JobWorker.Persistence.Migrations;

/// <summary>
/// Continuations: <c>job_parents</c> (which jobs a held job waits for, deleted with the child's row), <c>jobs.after_any</c>
/// (its policy), and a partial index over Awaiting jobs only, for the releaser's tick. The column has a constant default,
/// so adding it rewrites nothing; the index is built concurrently, outside the migration's transaction, so writers to
/// <c>jobs</c> are never stopped (an interrupted run is run again: the step drops what a previous attempt left first).
/// Workers of the previous version never see an Awaiting job: they read only the states they know.
/// </summary>
internal sealed partial class Continuations : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<bool>(
            name: "after_any",
            table: "jobs",
            type: "boolean",
            nullable: false,
            defaultValue: false);

        migrationBuilder.CreateTable(
            name: "job_parents",
            columns: table => new
            {
                job_id = table.Column<Guid>(type: "uuid", nullable: false),
                parent_id = table.Column<Guid>(type: "uuid", nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("pk_job_parents", x => new { x.job_id, x.parent_id });
                table.ForeignKey(
                    name: "fk_job_parents_jobs",
                    column: x => x.job_id,
                    principalTable: "jobs",
                    principalColumn: "id",
                    onDelete: ReferentialAction.Cascade);
            });

        migrationBuilder.CreateIndex(
            name: "ix_job_parents_parent_id",
            table: "job_parents",
            column: "parent_id");

        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_awaiting_queue_created_at", suppressTransaction: true);
        migrationBuilder.CreateIndex(
                name: "ix_jobs_awaiting_queue_created_at",
                table: "jobs",
                columns: ["queue", "created_at"],
                filter: "state = 'Awaiting'")
            .Annotation("Npgsql:CreatedConcurrently", true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.DropTable(name: "job_parents");
        migrationBuilder.Sql("DROP INDEX CONCURRENTLY IF EXISTS ix_jobs_awaiting_queue_created_at", suppressTransaction: true);
        migrationBuilder.DropColumn(name: "after_any", table: "jobs");
    }
}
