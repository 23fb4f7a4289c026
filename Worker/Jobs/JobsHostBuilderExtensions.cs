using JobWorker.Jobs.Handlers;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

public static class JobsHostBuilderExtensions
{
    /// <summary>
    /// The job lifecycle: the store, slots, processor, dispatcher and recovery, event relay, lease renewal, and the
    /// handlers. Add your own with <c>services.AddJobHandler&lt;T&gt;("type")</c>. Needs an <see cref="IJobBroker"/>
    /// (Messaging provides it).
    /// </summary>
    public static IHostApplicationBuilder AddJobProcessing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddJobOptions();
        services.AddSingleton<JobStore>();
        services.AddSingleton<JobCompleter>();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobHandlerCatalog>();
        services.AddSingleton<JobSlots>();
        services.AddSingleton<JobProcessor>();
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<JobEventRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<JobEventRelay>());
        services.AddSingleton<JobDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<JobDispatcher>());
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

    /// <summary>Binds and validates the <c>Jobs</c> and <c>Dispatch</c> sections once, however many building blocks ask for them.</summary>
    public static IServiceCollection AddJobOptions(this IServiceCollection services)
    {
        if (services.All(s => s.ServiceType != typeof(JobOptionsRegistered)))
        {
            services.AddSingleton<JobOptionsRegistered>();
            services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations()
                .Validate(o => o.DefaultTimeout <= o.MaxTimeout, "Jobs:DefaultTimeout must not be longer than Jobs:MaxTimeout.")
                .ValidateOnStart();
            services.AddOptions<DispatchOptions>().BindConfiguration(DispatchOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        }

        return services;
    }

    private sealed class JobOptionsRegistered;
}
