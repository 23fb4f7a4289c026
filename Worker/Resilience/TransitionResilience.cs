using System.Diagnostics;
using JobWorker.Persistence;
using JobWorker.Telemetry;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Telemetry;

namespace JobWorker.Resilience;

/// <summary>
/// The Polly pipeline every state transition runs in. Outermost, a retry: transient database errors are
/// retried with exponential backoff, jitter and a capped delay until the transition succeeds or its caller
/// gives up (cancellation), and a failure that means the pool's connections are broken resets the pool
/// before the next attempt. "Cannot write now" errors (read-only after a failover, statement timeout) are retried
/// the same way. Inside it, a circuit breaker: when the database keeps failing it opens the
/// <see cref="DatabaseCircuit"/> (Messaging pauses consumption on it), and closes it when a probe succeeds. Polly reports
/// retries and breaker transitions itself (meter and log category <c>Polly</c>, pipeline <see cref="PipelineName"/>).
/// </summary>
internal sealed class TransitionResilience
{
    /// <summary>The pipeline's name in Polly's telemetry (tag <c>pipeline.name</c>).</summary>
    public const string PipelineName = "jobworker-transition";

    private static readonly ResiliencePropertyKey<int> Generation = new("jobworker.db.generation");
    private static readonly ResiliencePropertyKey<bool> WaitingForCircuit = new("jobworker.db.waiting-for-circuit");

    private readonly ResiliencePipeline _pipeline;
    private readonly JobDatabase? _database;

    public TransitionResilience(JobDatabase database, DatabaseCircuit circuit, IOptions<ResilienceOptions> options, ILoggerFactory loggerFactory)
    {
        _database = database;
        var settings = options.Value;
        _pipeline = new ResiliencePipelineBuilder { Name = PipelineName }
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = ShouldRetry,
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.TransitionRetryBaseDelay,
                MaxDelay = settings.TransitionRetryMaxDelay,
                OnRetry = args =>
                {
                    // A transition waiting on the open breaker never reached the database: the BrokenCircuitException
                    // carries the error that opened it, which must not reset the pool again on every such retry.
                    var error = args.Outcome.Exception!;
                    if (error is BrokenCircuitException)
                    {
                        return default;
                    }

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
                    circuit.Open(args.Outcome.Exception is { } e ? DatabaseErrors.Describe(e) : "unknown");
                    return default;
                },
                OnClosed = _ =>
                {
                    circuit.Close();
                    return default;
                },
            })
            .ConfigureTelemetry(new Polly.Telemetry.TelemetryOptions { LoggerFactory = loggerFactory, SeverityProvider = Severity })
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

    private static ValueTask<bool> ShouldRetry(RetryPredicateArguments<object> args)
    {
        switch (args.Outcome.Exception)
        {
            case null:
                return PredicateResult.False();
            case BrokenCircuitException:
                // The breaker reported why it opened; a transition waiting for it to let a probe through is no news.
                args.Context.Properties.Set(WaitingForCircuit, true);
                return PredicateResult.True();
            case var error:
                args.Context.Properties.Set(WaitingForCircuit, false);
                return new ValueTask<bool>(DatabaseErrors.ShouldRetry(error));
        }
    }

    // Polly reports every attempt and every execution, at Information when it went well: one log line per statement. Those
    // become Debug; retries (with the error), breaker transitions and timeouts keep Polly's severities.
    private static ResilienceEventSeverity Severity(SeverityProviderArguments args) => args.Event.EventName switch
    {
        "ExecutionAttempt" or "PipelineExecuted" when args.Event.Severity <= ResilienceEventSeverity.Warning => ResilienceEventSeverity.Debug,
        "OnRetry" when args.Context.Properties.GetValue(WaitingForCircuit, false) => ResilienceEventSeverity.Debug,
        _ => args.Event.Severity,
    };
}
