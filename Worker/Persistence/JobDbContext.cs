using JobWorker.Jobs;
using Microsoft.EntityFrameworkCore;

namespace JobWorker.Persistence;

/// <summary>The job store's EF model. Contexts are short-lived: one per state transition, from a factory.</summary>
public sealed class JobDbContext(DbContextOptions<JobDbContext> options) : DbContext(options)
{
    public DbSet<Job> Jobs => Set<Job>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var job = modelBuilder.Entity<Job>();
        job.ToTable("jobs");
        job.HasKey(j => j.Id).HasName("pk_jobs");
        job.Property(j => j.Id).HasColumnName("id").ValueGeneratedNever();
        job.Property(j => j.Type).HasColumnName("type").HasMaxLength(JobSchema.MaxTypeLength).IsRequired();
        job.Property(j => j.Payload).HasColumnName("payload").HasColumnType("jsonb").IsRequired();
        job.Property(j => j.State).HasColumnName("state").HasMaxLength(16).HasConversion<string>().IsRequired();
        job.Property(j => j.Attempt).HasColumnName("attempt");
        job.Property(j => j.MaxAttempts).HasColumnName("max_attempts");
        job.Property(j => j.Timeout).HasColumnName("timeout");
        job.Property(j => j.CorrelationId).HasColumnName("correlation_id");
        job.Property(j => j.Owner).HasColumnName("owner").HasMaxLength(JobSchema.MaxOwnerLength);
        job.Property(j => j.LeaseExpiresAt).HasColumnName("lease_expires_at");
        job.Property(j => j.Error).HasColumnName("error");
        job.Property(j => j.Result).HasColumnName("result").HasColumnType("jsonb");
        job.Property(j => j.CreatedAt).HasColumnName("created_at");
        job.Property(j => j.StartedAt).HasColumnName("started_at");
        job.Property(j => j.FinishedAt).HasColumnName("finished_at");
        job.Property(j => j.UpdatedAt).HasColumnName("updated_at");
        job.HasIndex(j => new { j.State, j.UpdatedAt }).HasDatabaseName("ix_jobs_state_updated_at");
        job.HasIndex(j => j.Owner).HasDatabaseName("ix_jobs_owner_running").HasFilter("state = 'Running'");
    }
}
