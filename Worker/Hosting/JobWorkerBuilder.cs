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
///     .AddJobHandler&lt;ResizeImageHandler&gt;("resize-image");
/// </code>
/// </example>
public sealed class JobWorkerBuilder
{
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
}
