using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace JobWorker.Persistence;

/// <summary>The job store's EF model. Contexts are short-lived: one per state transition, from a factory.</summary>
internal sealed class JobDbContext(DbContextOptions<JobDbContext> options) : DbContext(options)
{
    /// <summary>The slow-statement check of this context's options, for statements run by <see cref="JobDbCommands"/>.</summary>
    internal SlowStatementInterceptor? SlowStatements { get; } =
        options.FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<SlowStatementInterceptor>().FirstOrDefault();

    public DbSet<Job> Jobs => Set<Job>();

    public DbSet<JobEvent> Events => Set<JobEvent>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        var job = modelBuilder.Entity<Job>();
        job.ToTable("jobs");
        job.HasKey(j => j.Id).HasName("pk_jobs");
        job.Property(j => j.Id).HasColumnName("id").ValueGeneratedNever();
        job.Property(j => j.Type).HasColumnName("type").HasMaxLength(JobSchema.MaxTypeLength).IsRequired();
        job.Property(j => j.Queue).HasColumnName("queue").HasMaxLength(JobSchema.MaxQueueLength).HasDefaultValue("").IsRequired();
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
        job.Property(j => j.RunAt).HasColumnName("run_at").HasDefaultValueSql("now()");
        job.Property(j => j.DispatchedAt).HasColumnName("dispatched_at");
        job.Property(j => j.CancelReason).HasColumnName("cancel_reason");
        job.Property(j => j.ClaimToken).HasColumnName("claim_token");
        job.HasIndex(j => new { j.State, j.UpdatedAt }).HasDatabaseName("ix_jobs_state_updated_at");

        // The dispatcher's query (due Pending jobs), recovery's (lapsed Running leases) and purge's (old finished jobs).
        job.HasIndex(j => new { j.Queue, j.RunAt }).HasDatabaseName("ix_jobs_pending_queue_run_at").HasFilter("state = 'Pending'");
        job.HasIndex(j => j.LeaseExpiresAt).HasDatabaseName("ix_jobs_running_lease").HasFilter("state = 'Running'");
        job.HasIndex(j => j.FinishedAt).HasDatabaseName("ix_jobs_finished_at").HasFilter("finished_at IS NOT NULL");

        var jobEvent = modelBuilder.Entity<JobEvent>();
        jobEvent.ToTable("job_events");
        jobEvent.HasKey(e => new { e.JobId, e.Kind, e.Attempt }).HasName("pk_job_events");
        jobEvent.Property(e => e.JobId).HasColumnName("job_id");
        jobEvent.Property(e => e.Kind).HasColumnName("kind").HasMaxLength(16).HasConversion<string>();
        jobEvent.Property(e => e.Attempt).HasColumnName("attempt");
        jobEvent.Property(e => e.WillRetry).HasColumnName("will_retry");
        jobEvent.Property(e => e.Error).HasColumnName("error");
        jobEvent.Property(e => e.WorkerId).HasColumnName("worker_id").HasMaxLength(JobSchema.MaxOwnerLength);
        jobEvent.Property(e => e.OccurredAt).HasColumnName("occurred_at");
        jobEvent.Property(e => e.RelayAfter).HasColumnName("relay_after");
        jobEvent.HasIndex(e => e.RelayAfter).HasDatabaseName("ix_job_events_relay_after");
        jobEvent.HasOne<Job>().WithMany().HasForeignKey(e => e.JobId).HasConstraintName("fk_job_events_jobs").OnDelete(DeleteBehavior.Cascade);
    }
}
