using System.Text.Json;
using JobWorker.Jobs;
using JobWorker.Jobs.Handlers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Hosting;

/// <summary>
/// What <see cref="JobWorkerHostBuilderExtensions.AddJobWorker"/> returns: adds job types to the worker.
/// </summary>
/// <example>
/// <code>
/// builder.AddJobWorker()
///     .AddJobHandler&lt;ResizeImageHandler&gt;("resize-image")
///     .AddRecurringJob("nightly-resize", "0 0 3 * * *", "resize-image", new { Width = 200 }, o => o.TimeZone = "Europe/Berlin");
/// </code>
/// </example>
public sealed class JobWorkerBuilder
{
    /// <summary>Payloads of schedules defined in code: camelCase, as handlers read JSON.</summary>
    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private bool _builtInHandlersAdded;

    internal JobWorkerBuilder(IHostApplicationBuilder host) => Host = host;

    /// <summary>The application's builder, for its configuration and services.</summary>
    public IHostApplicationBuilder Host { get; }

    /// <summary>The application's services (a handler's own dependencies go here).</summary>
    public IServiceCollection Services => Host.Services;

    /// <summary>
    /// Runs jobs of <paramref name="jobType"/> with <typeparamref name="THandler"/>, resolved in a DI scope of its own
    /// for each attempt. Each job type has one handler.
    /// </summary>
    /// <param name="jobType">The <c>JobType</c> of the <c>SubmitJob</c> messages this handler runs, e.g. <c>resize-image</c>.</param>
    public JobWorkerBuilder AddJobHandler<THandler>(string jobType)
        where THandler : class, IJobHandler
    {
        Services.AddJobHandler<THandler>(jobType);
        return this;
    }

    /// <summary>
    /// The handlers JobWorker ships, for demos, benchmarks and smoke tests: <c>delay</c> (waits) and <c>noop</c>. Each
    /// can be switched off in configuration (<c>Handlers:Delay:Enabled=false</c>); an invalid switch stops the worker
    /// at start. Adding them twice adds them once.
    /// </summary>
    public JobWorkerBuilder AddBuiltInHandlers()
    {
        if (_builtInHandlersAdded)
        {
            return this;
        }

        _builtInHandlersAdded = true;
        BuiltInHandlerOptions switches;
        try
        {
            switches = BuiltInHandlerOptions.Read(Host.Configuration);
        }
        catch (InvalidOperationException e)
        {
            // Reported when the worker starts, like every other setting, not while a Program.cs composes it: a CLI
            // command that never starts the worker is not stopped by it, and `run` stops with the key in one line.
            var message = e.Message;
            Services.AddOptions<BuiltInHandlerOptions>().Validate(_ => false, message).ValidateOnStart();
            Services.AddOptions<JobHandlerCheck>().Configure(check => check.HandlersRequested = true);
            return this;
        }

        if (switches.Delay.Enabled)
        {
            AddJobHandler<DelayJobHandler>(DelayJobHandler.JobType);
        }

        if (switches.Noop.Enabled)
        {
            AddJobHandler<NoopJobHandler>(NoopJobHandler.JobType);
        }

        return this;
    }

    /// <summary>
    /// Fires a job of <paramref name="jobType"/> on the schedule <paramref name="cron"/> (five fields, or six with seconds
    /// first), from every replica of this queue with no leader: each occurrence runs once. Start-up stores it; removed
    /// from code (and configuration), it is disabled. Configuration's <c>Recurring:&lt;key&gt;</c> of the same key takes
    /// precedence. An invalid schedule (cron, time zone, job type without a handler) stops the worker at start.
    /// </summary>
    /// <param name="key">The schedule's name, unique across queues: letters, digits, '.', '_' and '-'.</param>
    /// <param name="cron">E.g. <c>0 */5 * * * *</c> (every five minutes) or <c>0 3 * * *</c> (03:00 every day).</param>
    /// <param name="jobType">The job type to run; this worker must have its handler.</param>
    /// <param name="configure">Time zone, attempts, timeout, overlap and catch-up.</param>
    public JobWorkerBuilder AddRecurringJob(string key, string cron, string jobType, Action<RecurringJobOptions>? configure = null) =>
        AddRecurring(key, cron, jobType, "null", configure);

    /// <summary>As <see cref="AddRecurringJob(string, string, string, Action{RecurringJobOptions}?)"/>, with <paramref name="payload"/> (serialized as JSON, camelCase) for every job.</summary>
    public JobWorkerBuilder AddRecurringJob<TPayload>(string key, string cron, string jobType, TPayload payload, Action<RecurringJobOptions>? configure = null) =>
        AddRecurring(key, cron, jobType, JsonSerializer.Serialize(payload, JsonOptions), configure);

    private JobWorkerBuilder AddRecurring(string key, string cron, string jobType, string payloadJson, Action<RecurringJobOptions>? configure)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(key);
        ArgumentException.ThrowIfNullOrWhiteSpace(cron);
        ArgumentException.ThrowIfNullOrWhiteSpace(jobType);
        var options = new RecurringJobOptions();
        configure?.Invoke(options);
        Services.AddSingleton(new RecurringDefinition(
            key, cron.Trim(), jobType, payloadJson, options.TimeZone, options.MaxAttempts, options.Timeout, options.Overlap,
            options.CatchUp, options.CatchUpWindow, RecurringSource.Code));
        return this;
    }
}
