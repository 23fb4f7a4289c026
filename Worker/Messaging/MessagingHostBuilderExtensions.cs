using JobWorker.Jobs;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Messaging;

public static class MessagingHostBuilderExtensions
{
    /// <summary>MassTransit over RabbitMQ. With <paramref name="consumeJobs"/> the bus also runs the job consumers.</summary>
    public static IHostApplicationBuilder AddJobMessaging(this IHostApplicationBuilder builder, bool consumeJobs)
    {
        var services = builder.Services;
        services.AddOptions<RabbitMqOptions>().BindConfiguration(RabbitMqOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddJobOptions();

        if (consumeJobs)
        {
            services.AddReceiveObserver<UnreadableSubmissionRecorder>();
        }

        services.AddMassTransit(bus =>
        {
            bus.DisableUsageTelemetry();
            if (consumeJobs)
            {
                bus.AddConsumer<SubmitJobConsumer, SubmitJobConsumerDefinition>();
                bus.AddConsumer<GetJobStatusConsumer, GetJobStatusConsumerDefinition>();
                bus.AddConsumer<CancelJobConsumer, CancelJobConsumerDefinition>();
            }

            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(options.Host, (ushort)options.Port, options.VirtualHost, host =>
                {
                    host.Username(options.Username);
                    host.Password(options.Password);
                });
                rabbit.ConfigureEndpoints(context);
            });
        });

        return builder;
    }
}
