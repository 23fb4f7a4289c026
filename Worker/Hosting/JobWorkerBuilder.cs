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
    /// can be switched off in configuration (<c>Handlers:Delay:Enabled=false</c>). Adding them twice adds them once.
    /// </summary>
    public JobWorkerBuilder AddBuiltInHandlers()
    {
        if (_builtInHandlersAdded)
        {
            return this;
        }

        _builtInHandlersAdded = true;
        var switches = BuiltInHandlerOptions.Read(Host.Configuration);
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
