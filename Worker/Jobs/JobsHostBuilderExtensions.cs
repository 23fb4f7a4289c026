using JobWorker.Resilience;
using JobWorker.Settings;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Jobs;

/// <summary>The jobs block: the job lifecycle.</summary>
public static class JobsHostBuilderExtensions
{
    /// <summary>
    /// The job lifecycle: the lifecycle and its one writer, slots, processor, event relay, lease renewal, the maintenance duties (rescuer, dispatcher, event sweep, heartbeat, reaper, recurring scheduler, continuation releaser, progress writer), and the
    /// handler catalog (handlers are added to the worker's builder). Needs an <see cref="IJobBroker"/> (Messaging
    /// provides it).
    /// </summary>
    public static IHostApplicationBuilder AddJobProcessing(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddJobStore();
        services.AddSingleton<JobRunner>();
        services.AddSingleton<JobHandlerCatalog>();
        services.AddSingleton<JobSlots>();
        services.AddSingleton<JobProcessor>();
        services.AddSingleton<WorkerIdentity>();
        services.AddSingleton<DutyWake>();
        services.AddSingleton<EnqueuedJobAcceptor>();
        services.AddSingleton<JobEventRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<JobEventRelay>());
        services.AddHostedService<LeaseRenewalService>();

        // The maintenance duties, each on its own timer and in its own failure domain; readiness reports each by name.
        AddMaintenance<JobRescuer>(services);
        AddMaintenance<JobDispatcher>(services);
        AddMaintenance<JobEventSweeper>(services);
        AddMaintenance<ReplicaHeartbeat>(services);
        AddMaintenance<JobReaper>(services);
        AddMaintenance<ContinuationReleaser>(services);
        AddMaintenance<RecurringScheduler>(services);
        AddMaintenance<ProgressWriter>(services);

        // Schedules are checked at start with the handlers known: a bad one stops the worker naming its setting.
        services.AddSingleton<IValidateOptions<RecurringOptions>, RecurringDefinitionsValidator>();

        // The host waits for the drain (slots, then the completer and the relay) before it gives up on a stop.
        services.AddOptions<HostOptions>().Configure<IOptions<JobOptions>>((host, jobs) => host.ShutdownTimeout = jobs.Value.DrainTimeout + TimeSpan.FromSeconds(90));
        return builder;
    }

    /// <summary>The job store alone (and its settings), for tools that read and write jobs without running them.</summary>
    internal static IHostApplicationBuilder AddJobStore(this IHostApplicationBuilder builder)
    {
        builder.Services.AddJobOptions();
        builder.Services.TryAddSingleton<JobStore>();
        builder.Services.TryAddSingleton<JobQueries>();
        builder.Services.TryAddSingleton<JobLifecycle>();
        builder.Services.TryAddSingleton<JobCompleter>();
        builder.Services.TryAddSingleton<JobControl>();
        builder.Services.TryAddSingleton<QueueControl>();
        builder.Services.TryAddSingleton<RecurringStore>();
        builder.Services.TryAddSingleton<RecurringControl>();
        builder.Services.TryAddSingleton<RecurringDefinitions>();
        builder.Services.TryAddSingleton<JobLimitsView>();

        // Command-line tools take errors as they come; the worker has the full pipeline (AddJobResilience) instead.
        builder.Services.TryAddSingleton(TransitionResilience.None);
        return builder;
    }

    internal static void AddMaintenance<TDuty>(IServiceCollection services) where TDuty : MaintenanceService
    {
        services.AddSingleton<TDuty>();
        services.AddSingleton<MaintenanceService>(sp => sp.GetRequiredService<TDuty>());
        services.AddHostedService(sp => sp.GetRequiredService<TDuty>());
    }

    /// <summary>Binds and validates the <c>Jobs</c>, <c>Submissions</c>, <c>Retries</c>, <c>Dispatch</c>, <c>Retention</c>, <c>Recurring</c>, <c>Continuations</c> and <c>Limits</c> sections once, however many building blocks ask for them.</summary>
    internal static IServiceCollection AddJobOptions(this IServiceCollection services)
    {
        if (services.All(s => s.ServiceType != typeof(JobOptionsRegistered)))
        {
            services.AddSingleton<JobOptionsRegistered>();
            services.AddSettings<JobOptions>(JobOptions.Section);
            services.AddSettings<SubmissionOptions>(SubmissionOptions.Section)
                .Validate(o => o.DefaultTimeout <= o.MaxTimeout, "Submissions:DefaultTimeout must not be longer than Submissions:MaxTimeout.");
            services.AddSettings<RetryOptions>(RetryOptions.Section);
            services.AddSettings<DispatchOptions>(DispatchOptions.Section);
            services.AddSettings<RetentionOptions>(RetentionOptions.Section);
            services.AddSettings<RecurringOptions>(RecurringOptions.Section);
            services.AddSettings<ContinuationOptions>(ContinuationOptions.Section);
            services.AddOptions<JobLimitsOptions>()
                .Configure<IConfiguration>((limits, configuration) => limits.Read(configuration.GetSection(JobLimitsOptions.Section)))
                .ValidateOnStart();
            services.AddSingleton<IValidateOptions<JobLimitsOptions>, JobLimitsValidator>();
        }

        return services;
    }

    private sealed class JobOptionsRegistered;
}
