using JobWorker.Dashboard;
using JobWorker.Jobs;
using JobWorker.Messaging;
using JobWorker.Persistence;
using JobWorker.Resilience;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>Adds JobWorker to an application, as <c>AddHangfireServer</c> or <c>AddMassTransit</c> do.</summary>
public static class JobWorkerHostBuilderExtensions
{
    /// <summary>
    /// The whole worker, from its blocks: persistence (one data source, a short context per transition), resilience
    /// (the transition pipeline and the database circuit), jobs (the lifecycle), messaging (MassTransit over RabbitMQ,
    /// consuming the job queue), telemetry, health, and the dashboard (off unless <c>Dashboard:Enabled</c>). Each block binds and validates its own settings. Add job types
    /// to what it returns; serve the health endpoints with <see cref="HealthEndpoints.MapJobWorkerHealth"/> and the dashboard with
    /// <see cref="DashboardHostBuilderExtensions.MapJobWorkerDashboard"/>.
    /// Calling it again returns the same builder.
    /// </summary>
    public static JobWorkerBuilder AddJobWorker(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (builder.Properties.TryGetValue(typeof(JobWorkerBuilder), out var added))
        {
            return (JobWorkerBuilder)added;
        }

        builder.AddJobPersistence(sp => $"jobworker/{sp.GetRequiredService<WorkerIdentity>().Id}");
        builder.AddJobResilience();
        builder.AddJobProcessing();
        builder.AddJobMessaging(consumeJobs: true);

        // Only a worker that consumes needs handlers; the dashboard and the CLI's hosts compose without this method.
        builder.Services.AddSingleton<IValidateOptions<JobHandlerCheck>, JobHandlersValidator>();
        builder.Services.AddOptions<JobHandlerCheck>().ValidateOnStart();
        builder.AddJobTelemetry();
        builder.AddJobWorkerHealth();
        builder.AddJobWorkerDashboard();
        builder.Services.AddHostedService<StartupReport>();
        builder.Services.AddHostedService<WorkerShutdown>();

        var worker = new JobWorkerBuilder(builder);
        builder.Properties[typeof(JobWorkerBuilder)] = worker;
        return worker;
    }

    internal static bool HasJobWorker(this IHostApplicationBuilder builder) => builder.Properties.ContainsKey(typeof(JobWorkerBuilder));
}
