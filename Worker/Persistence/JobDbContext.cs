using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace JobWorker.Persistence;

/// <summary>The job store's EF model. Contexts are short-lived: one per state transition, from a factory.</summary>
internal sealed class JobDbContext(DbContextOptions<JobDbContext> options) : DbContext(options)
{
    /// <summary>The statement interceptors of this context's options, for statements run by <see cref="JobDbCommands"/>.</summary>
    internal IStatementInterceptor[] StatementInterceptors { get; } =
        [.. options.FindExtension<CoreOptionsExtension>()?.Interceptors?.OfType<IStatementInterceptor>() ?? []];

    public DbSet<Job> Jobs => Set<Job>();

    public DbSet<JobEvent> Events => Set<JobEvent>();

    public DbSet<WorkerHeartbeat> Workers => Set<WorkerHeartbeat>();

    public DbSet<JobQueue> Queues => Set<JobQueue>();

    public DbSet<RecurringJob> RecurringJobs => Set<RecurringJob>();
    public DbSet<JobParent> Parents => Set<JobParent>();

    public DbSet<JobStart> Starts => Set<JobStart>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasPostgresExtension("pg_trgm");

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
        job.Property(j => j.AfterAny).HasColumnName("after_any").HasDefaultValue(false);
        job.Property(j => j.ProgressCompleted).HasColumnName("progress_completed");
        job.Property(j => j.ProgressTotal).HasColumnName("progress_total");
        job.Property(j => j.ProgressMessage).HasColumnName("progress_message");
        job.Property(j => j.ProgressUpdatedAt).HasColumnName("progress_updated_at");
        job.Property(j => j.Checkpoint).HasColumnName("checkpoint").HasColumnType("jsonb");
        job.Property(j => j.Priority).HasColumnName("priority").HasDefaultValue((short)0);
        job.Property(j => j.ConcurrencyKey).HasColumnName("concurrency_key").HasMaxLength(JobSchema.MaxConcurrencyKeyLength);
        job.Property(j => j.Unchecked).HasColumnName("unchecked").HasDefaultValue(false);

        // The jobs list, newest first, by any filter (the dashboard, `jobs list`; without a state, one range per state);
        // errors searched by trigram.
        job.HasIndex(j => new { j.State, j.CreatedAt, j.Id }).HasDatabaseName("ix_jobs_state_created_at").IsDescending(false, true, true);
        job.HasIndex(j => new { j.Type, j.CreatedAt, j.Id }).HasDatabaseName("ix_jobs_type_created_at").IsDescending(false, true, true);
        job.HasIndex(j => j.Error).HasDatabaseName("ix_jobs_error_trgm").HasMethod("gin").HasOperators("gin_trgm_ops").HasFilter("error IS NOT NULL");

        // The dispatcher's two queries, each through an index that holds only the rows it may take, so that neither reads
        // past the jobs already sent and waiting in the queue (every replica runs them every tick): unsent Pending jobs by
        // due time (also the dashboard's scheduled jobs, which are never sent before they are due), and sent ones by when
        // they were sent, for a message overdue. Unsent jobs are taken highest priority first, then by due time, in the
        // index's own order. Created concurrently: `jobs` holds the whole history, and a plain CREATE
        // INDEX would stop every write to it for as long as the build takes.
        job.HasIndex(j => new { j.Queue, j.Priority, j.RunAt }).HasDatabaseName("ix_jobs_unsent_queue_priority_run_at")
            .IsDescending(false, true, false).HasFilter("state = 'Pending' AND dispatched_at IS NULL").IsCreatedConcurrently();
        job.HasIndex(j => new { j.Queue, j.DispatchedAt }).HasDatabaseName("ix_jobs_sent_queue_dispatched_at")
            .HasFilter("state = 'Pending' AND dispatched_at IS NOT NULL").IsCreatedConcurrently();

        // Recovery's query (lapsed Running leases), and purge's and the dashboard's (jobs finished in a time range, by
        // state: answered from the index alone).
        job.HasIndex(j => j.LeaseExpiresAt).HasDatabaseName("ix_jobs_running_lease").HasFilter("state = 'Running'");
        job.HasIndex(j => new { j.FinishedAt, j.State }).HasDatabaseName("ix_jobs_finished_at").HasFilter("finished_at IS NOT NULL");

        // The continuation releaser's query (every replica, every tick): only held continuations, so it reads nothing at
        // all while there are none, and no transition of any other job writes to it.
        job.HasIndex(j => new { j.Queue, j.CreatedAt }).HasDatabaseName("ix_jobs_awaiting_queue_created_at")
            .HasFilter("state = 'Awaiting'").IsCreatedConcurrently();

        // A limited type's claim counts its Running jobs (and per key) under its advisory lock: only Running rows are in it,
        // so the count reads the places in use, never the type's history.
        job.HasIndex(j => new { j.Type, j.ConcurrencyKey }).HasDatabaseName("ix_jobs_running_type_key")
            .HasFilter("state = 'Running'").IsCreatedConcurrently();

        // The dispatcher's take of one limited type (take-limited) reads that type's Pending jobs only: those sent and not
        // yet claimed, overdue ones, and the unsent ones it may send. Without it each take would read every job of the
        // queue sent and waiting, or due, whatever its type. Jobs submitted due and claimed at once are never Pending.
        job.HasIndex(j => new { j.Type, j.DispatchedAt }).HasDatabaseName("ix_jobs_pending_type_dispatched_at")
            .HasFilter("state = 'Pending'").IsCreatedConcurrently();

        // The dispatcher's accept step (every replica, every tick) reads the rows the client's transactional enqueue wrote
        // and no worker has checked yet: only those are in it, for the moment between a commit and the next tick, so the
        // step reads nothing at all while there are none.
        // (Named in the model: the releaser's index above has the same columns.)
        job.HasIndex(j => new { j.Queue, j.CreatedAt }, "ix_jobs_unchecked_queue_created_at").HasDatabaseName("ix_jobs_unchecked_queue_created_at")
            .HasFilter("unchecked").IsCreatedConcurrently();

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
        jobEvent.Property(e => e.PublishedAt).HasColumnName("published_at");
        jobEvent.HasIndex(e => e.RelayAfter).HasDatabaseName("ix_job_events_unpublished").HasFilter("published_at IS NULL");
        jobEvent.HasOne<Job>().WithMany().HasForeignKey(e => e.JobId).HasConstraintName("fk_job_events_jobs").OnDelete(DeleteBehavior.Cascade);

        // A continuation's parents; by parent too, for a parent's page ("Continuations") and its children's release.
        var parent = modelBuilder.Entity<JobParent>();
        parent.ToTable("job_parents");
        parent.HasKey(p => new { p.JobId, p.ParentId }).HasName("pk_job_parents");
        parent.Property(p => p.JobId).HasColumnName("job_id");
        parent.Property(p => p.ParentId).HasColumnName("parent_id");
        parent.HasIndex(p => p.ParentId).HasDatabaseName("ix_job_parents_parent_id");
        parent.HasOne<Job>().WithMany().HasForeignKey(p => p.JobId).HasConstraintName("fk_job_parents_jobs").OnDelete(DeleteBehavior.Cascade);

        var worker = modelBuilder.Entity<WorkerHeartbeat>();
        worker.ToTable("workers");
        worker.HasKey(w => w.Id).HasName("pk_workers");
        worker.Property(w => w.Id).HasColumnName("id").HasMaxLength(JobSchema.MaxOwnerLength);
        worker.Property(w => w.Queue).HasColumnName("queue").HasMaxLength(JobSchema.MaxQueueLength).IsRequired();
        worker.Property(w => w.Slots).HasColumnName("slots");
        worker.Property(w => w.Busy).HasColumnName("busy");
        worker.Property(w => w.StartedAt).HasColumnName("started_at");
        worker.Property(w => w.LastSeenAt).HasColumnName("last_seen_at");
        worker.Property(w => w.LastProgressAt).HasColumnName("last_progress_at");
        worker.Property(w => w.StoppedAt).HasColumnName("stopped_at");
        worker.HasIndex(w => w.LastSeenAt).HasDatabaseName("ix_workers_last_seen_at");

        var queue = modelBuilder.Entity<JobQueue>();
        queue.ToTable("queues");
        queue.HasKey(q => q.Name).HasName("pk_queues");
        queue.Property(q => q.Name).HasColumnName("name").HasMaxLength(JobSchema.MaxQueueLength);
        queue.Property(q => q.PausedAt).HasColumnName("paused_at");
        queue.Property(q => q.PausedBy).HasColumnName("paused_by").HasMaxLength(JobSchema.MaxOwnerLength);
        queue.Property(q => q.Reason).HasColumnName("reason");

        var recurring = modelBuilder.Entity<RecurringJob>();
        recurring.ToTable("recurring_jobs");
        recurring.HasKey(r => r.Key).HasName("pk_recurring_jobs");
        recurring.Property(r => r.Key).HasColumnName("key").HasMaxLength(JobSchema.MaxRecurringKeyLength);
        recurring.Property(r => r.Queue).HasColumnName("queue").HasMaxLength(JobSchema.MaxQueueLength).IsRequired();
        recurring.Property(r => r.Cron).HasColumnName("cron").HasMaxLength(200).IsRequired();
        recurring.Property(r => r.TimeZone).HasColumnName("time_zone").HasMaxLength(100).IsRequired();
        recurring.Property(r => r.Type).HasColumnName("type").HasMaxLength(JobSchema.MaxTypeLength).IsRequired();
        recurring.Property(r => r.Payload).HasColumnName("payload").HasColumnType("jsonb").IsRequired();
        recurring.Property(r => r.MaxAttempts).HasColumnName("max_attempts");
        recurring.Property(r => r.Timeout).HasColumnName("timeout");
        recurring.Property(r => r.Overlap).HasColumnName("overlap").HasMaxLength(16).HasDefaultValue("Skip").IsRequired();
        recurring.Property(r => r.CatchUp).HasColumnName("catch_up").HasMaxLength(16).HasDefaultValue("None").IsRequired();
        recurring.Property(r => r.CatchUpWindow).HasColumnName("catch_up_window");
        recurring.Property(r => r.Source).HasColumnName("source").HasMaxLength(16).IsRequired();
        recurring.Property(r => r.Enabled).HasColumnName("enabled");
        recurring.Property(r => r.PausedAt).HasColumnName("paused_at");
        recurring.Property(r => r.PausedBy).HasColumnName("paused_by").HasMaxLength(JobSchema.MaxOwnerLength);
        recurring.Property(r => r.NextRunAt).HasColumnName("next_run_at");
        recurring.Property(r => r.LastOccurrenceAt).HasColumnName("last_occurrence_at");
        recurring.Property(r => r.LastJobId).HasColumnName("last_job_id");
        recurring.Property(r => r.LastSkippedAt).HasColumnName("last_skipped_at");
        recurring.Property(r => r.CreatedAt).HasColumnName("created_at");
        recurring.Property(r => r.UpdatedAt).HasColumnName("updated_at");

        // Every replica's scheduler asks for its queue's due schedules every tick: only those that may fire are in it.
        recurring.HasIndex(r => new { r.Queue, r.NextRunAt }).HasDatabaseName("ix_recurring_jobs_due")
            .HasFilter("enabled AND paused_at IS NULL");

        // A rate-limited type's recent starts: its claims insert and prune them, and count those within the interval by the key.
        var start = modelBuilder.Entity<JobStart>();
        start.ToTable("job_starts");
        start.HasKey(s => new { s.Type, s.StartedAt, s.JobId }).HasName("pk_job_starts");
        start.Property(s => s.Type).HasColumnName("type").HasMaxLength(JobSchema.MaxTypeLength);
        start.Property(s => s.StartedAt).HasColumnName("started_at");
        start.Property(s => s.JobId).HasColumnName("job_id");
    }
}
