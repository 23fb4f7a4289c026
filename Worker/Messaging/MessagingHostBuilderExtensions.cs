using JobWorker.Jobs;
using JobWorker.Settings;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

/// <summary>The messaging block: MassTransit over RabbitMQ.</summary>
public static class MessagingHostBuilderExtensions
{
    /// <summary>
    /// MassTransit over RabbitMQ, and the job lifecycle's broker (<see cref="IJobBroker"/>). With
    /// <paramref name="consumeJobs"/> the bus also runs the job consumers, and consumption follows the database circuit.
    /// </summary>
    public static IHostApplicationBuilder AddJobMessaging(this IHostApplicationBuilder builder, bool consumeJobs)
    {
        var services = builder.Services;
        services.AddSettings<RabbitMqOptions>(RabbitMqOptions.Section);
        services.AddSingleton<IValidateOptions<RabbitMqOptions>, RabbitMqOptionsValidator>();
        services.AddJobOptions();
        services.AddSingleton<IJobBroker, MassTransitJobBroker>();
        services.AddSingleton<JobQueuePriority>();

        if (consumeJobs)
        {
            services.AddReceiveObserver<UnreadableSubmissionRecorder>();
            services.AddSingleton<ConsumptionControl>();
            services.AddHostedService(sp => sp.GetRequiredService<ConsumptionControl>());
            services.AddReceiveEndpointObserver(sp => sp.GetRequiredService<ConsumptionControl>());
            // The operator's pause, read each tick and handed to ConsumptionControl: a maintenance duty of its own.
            JobsHostBuilderExtensions.AddMaintenance<QueuePauseWatcher>(services);
            services.AddHostedService<LegacyBindingRemoval>();

            // Registered before MassTransit's hosted service, so a queue of the wrong type stops the start before the bus runs.
            services.AddHostedService<QueueTypeCheck>();

            // A start that could not probe the jobs queues declared them as priority queues unchecked: checked when RabbitMQ answers.
            services.AddHostedService<JobQueuePriorityRecheck>();
        }

        services.AddOptions<MassTransitHostOptions>().Configure<IOptions<RabbitMqOptions>>((host, rabbit) =>
        {
            host.WaitUntilStarted = true;
            host.StartTimeout = rabbit.Value.StartTimeout == TimeSpan.Zero ? null : rabbit.Value.StartTimeout;

            // A consume only waits for a slot and claims; handlers run in slots and drain in WorkerShutdown. A delivery
            // still waiting when its endpoint stops is cancelled after this and goes back to the queue.
            host.ConsumerStopTimeout = TimeSpan.FromSeconds(5);
            host.StopTimeout = TimeSpan.FromSeconds(30);
        });

        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            if (consumeJobs)
            {
                AddJobConsumers(bus);
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                BrokerHost.Configure(rabbit, options.Nodes(), options.Hosts.Length > 0, options.VirtualHost, options.Username, options.Password);

                // Every message-type exchange this bus publishes to or binds is the deployment's own
                // (<queue>:JobWorker.Contracts:CancelJob), never the broker-wide one, so deployments sharing a virtual host
                // never see each other's cancels, status requests, published submissions or events. Set before the
                // endpoints are configured: an entity name is fixed once it is first read.
                var prefix = QueueNames.ExchangePrefix(context.GetRequiredService<IOptions<JobOptions>>().Value);
                rabbit.MessageTopology.SetEntityNameFormatter(new PrefixEntityNameFormatter(rabbit.MessageTopology.EntityNameFormatter, prefix));
                if (consumeJobs)
                {
                    var priority = context.GetRequiredService<JobQueuePriority>();
                    rabbit.SendTopology.ConfigureErrorSettings = priority.ConfigureDeadLetters;
                    rabbit.SendTopology.ConfigureDeadLetterSettings = priority.ConfigureDeadLetters;
                }

                rabbit.ConfigureEndpoints(context);
            });
        });

        BusStarter.StartAfterListeners(services);
        return builder;
    }

    /// <summary>The consumers a worker runs.</summary>
    private static void AddJobConsumers(IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<SubmitJobConsumer, SubmitJobConsumerDefinition>();
        bus.AddConsumer<GetJobStatusConsumer, GetJobStatusConsumerDefinition>();
        bus.AddConsumer<CancelJobConsumer, CancelJobConsumerDefinition>();
        bus.AddConsumer<CancelJobNoticeConsumer, CancelJobNoticeConsumerDefinition>();
    }
}
