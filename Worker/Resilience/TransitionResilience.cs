using System.Diagnostics;
using JobWorker.Persistence;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;

namespace JobWorker.Resilience;

/// <summary>
/// The Polly pipeline every state transition runs in. Outermost, a retry: transient database errors are
/// retried with exponential backoff, jitter and a capped delay until the transition succeeds or its caller
/// gives up (cancellation), and a failure that means the pool's connections are broken resets the pool
/// before the next attempt. "Cannot write now" errors (read-only after a failover, statement timeout) are retried
/// the same way. Inside it, a circuit breaker: when the database keeps failing it opens the
/// <see cref="DatabaseCircuit"/> (Messaging pauses consumption on it), and closes it when a probe succeeds.
/// </summary>
internal sealed partial class TransitionResilience
{
    private static readonly ResiliencePropertyKey<int> Generation = new("jobworker.db.generation");

    private readonly ResiliencePipeline _pipeline;
    private readonly JobDatabase? _database;

    public TransitionResilience(JobDatabase database, DatabaseCircuit circuit, IOptions<ResilienceOptions> options, ILogger<TransitionResilience> logger)
    {
        _database = database;
        var settings = options.Value;
        _pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<BrokenCircuitException>().Handle<Exception>(DatabaseErrors.ShouldRetry),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.TransitionRetryBaseDelay,
                MaxDelay = settings.TransitionRetryMaxDelay,
                OnRetry = args =>
                {
                    var error = args.Outcome.Exception!;
                    if (error is BrokenCircuitException)
                    {
                        return default; // the breaker already said why; wait for it to let a probe through
                    }

                    JobWorkerTelemetry.TransitionRetries.Add(1);
                    LogRetry(logger, args.AttemptNumber + 1, args.RetryDelay, DatabaseErrors.Describe(error));
                    if (DatabaseErrors.BreaksConnections(error) || DatabaseErrors.NeedsRecreate(error))
                    {
                        database.Reset(args.Context.Properties.GetValue(Generation, database.Generation),
                            DatabaseErrors.Describe(error), recreate: DatabaseErrors.NeedsRecreate(error));
                    }

                    return default;
                },
            })
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(DatabaseErrors.ShouldRetry),
                FailureRatio = settings.BreakerFailureRatio,
                MinimumThroughput = settings.BreakerMinimumThroughput,
                SamplingDuration = settings.BreakerSamplingDuration,
                BreakDuration = settings.BreakerBreakDuration,
                OnOpened = args =>
                {
                    var reason = args.Outcome.Exception is { } e ? DatabaseErrors.Describe(e) : "unknown";
                    JobWorkerTelemetry.CircuitTransitions.Add(1, new KeyValuePair<string, object?>("state", "open"));
                    LogOpened(logger, args.BreakDuration, reason);
                    circuit.Open(reason);
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    JobWorkerTelemetry.CircuitTransitions.Add(1, new KeyValuePair<string, object?>("state", "half-open"));
                    LogHalfOpened(logger);
                    return default;
                },
                OnClosed = _ =>
                {
                    JobWorkerTelemetry.CircuitTransitions.Add(1, new KeyValuePair<string, object?>("state", "closed"));
                    LogClosed(logger);
                    circuit.Close();
                    return default;
                },
            })
            .Build();
    }

    private TransitionResilience(ResiliencePipeline pipeline) => _pipeline = pipeline;

    /// <summary>No retries and no breaker: for command-line tools and tests that want errors as they come.</summary>
    public static TransitionResilience None { get; } = new(ResiliencePipeline.Empty);

    /// <summary>
    /// Runs <paramref name="transition"/> (named <paramref name="name"/> in its span and metrics) through the
    /// pipeline, in a span of its own (the connection-hold interceptor adds the time it held a connection).
    /// </summary>
    /// <param name="jobs">
    /// For a transition written for many jobs at once, each job's trace: the span is a child of the only one, or, for a
    /// batch, a root span linked to every one of them (OpenTelemetry's way to show a batch).
    /// </param>
    public async Task<T> ExecuteAsync<T>(
        string name, Func<CancellationToken, Task<T>> transition, CancellationToken cancellationToken, Guid? jobId = null,
        IReadOnlyList<ActivityContext>? jobs = null)
    {
        using var activity = StartSpan(name, jobs);
        activity?.SetTag("jobworker.transition", name);
        activity?.SetTag("jobworker.job.id", jobId);
        activity?.SetTag("db.system.name", "postgresql");
        var started = Stopwatch.GetTimestamp();
        var attempt = new AttemptState<T>(_database, transition, name);
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        var outcome = "ok";
        try
        {
            return await _pipeline.ExecuteAsync(
                static async (context, state) =>
                {
                    state.Attempts++;
                    if (state.Database is { } database)
                    {
                        context.Properties.Set(Generation, database.Generation);
                    }

                    using var inUse = state.Database?.Use();
                    return await state.Transition(context.CancellationToken);
                },
                context,
                attempt);
        }
        catch (Exception e)
        {
            outcome = e is OperationCanceledException ? "cancelled" : "error";
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
            activity?.SetTag("jobworker.transition.attempts", attempt.Attempts);
            JobWorkerTelemetry.TransitionDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                attempt.Tag, new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private static Activity? StartSpan(string name, IReadOnlyList<ActivityContext>? jobs)
    {
        var span = $"jobworker.transition {name}";
        if (jobs is null)
        {
            return JobWorkerTelemetry.ActivitySource.StartActivity(span);
        }

        if (jobs.Count == 1)
        {
            return JobWorkerTelemetry.ActivitySource.StartActivity(span, ActivityKind.Internal, jobs[0]);
        }

        var links = jobs.Where(j => j != default).Select(j => new ActivityLink(j));
        var activity = JobWorkerTelemetry.ActivitySource.StartActivity(span, ActivityKind.Internal, parentContext: default, links: links);
        activity?.SetTag("jobworker.batch.size", jobs.Count);
        return activity;
    }

    private sealed class AttemptState<T>(JobDatabase? database, Func<CancellationToken, Task<T>> transition, string name)
    {
        public JobDatabase? Database { get; } = database;
        public Func<CancellationToken, Task<T>> Transition { get; } = transition;
        public KeyValuePair<string, object?> Tag { get; } = new("jobworker.transition", name);
        public int Attempts { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database error in a state transition; retry {Attempt} in {Delay}: {Reason}")]
    private static partial void LogRetry(ILogger logger, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Database circuit opened for {BreakDuration}: {Reason}")]
    private static partial void LogOpened(ILogger logger, TimeSpan breakDuration, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database circuit half-open: probing")]
    private static partial void LogHalfOpened(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Database circuit closed: the database answers again")]
    private static partial void LogClosed(ILogger logger);
}
