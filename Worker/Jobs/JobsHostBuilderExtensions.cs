using JobWorker.Jobs.Handlers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Jobs;

public static class JobsHostBuilderExtensions
{
    /// <summary>The job store, the runner and the handlers. Add your own with <c>services.AddJobHandler&lt;T&gt;("type")</c>.</summary>
    public static IHostApplicationBuilder AddJobProcessing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddJobOptions();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobHandlerCatalog>();
        services.AddSingleton<InFlightJobs>();
        services.AddSingleton<WorkerIdentity>();
        services.AddHostedService<LeaseRenewalService>();

        var builtIn = builder.Configuration.GetSection(BuiltInHandlerOptions.Section).Get<BuiltInHandlerOptions>() ?? new();
        if (builtIn.Delay.Enabled)
        {
            services.AddJobHandler<DelayJobHandler>(DelayJobHandler.JobType);
        }

        if (builtIn.Noop.Enabled)
        {
            services.AddJobHandler<NoopJobHandler>(NoopJobHandler.JobType);
        }

        return builder;
    }

    /// <summary>Binds and validates the <c>Jobs</c> section once, however many building blocks ask for it.</summary>
    public static IServiceCollection AddJobOptions(this IServiceCollection services)
    {
        if (services.All(s => s.ServiceType != typeof(JobOptionsRegistered)))
        {
            services.AddSingleton<JobOptionsRegistered>();
            services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        }

        return services;
    }

    private sealed class JobOptionsRegistered;
}
