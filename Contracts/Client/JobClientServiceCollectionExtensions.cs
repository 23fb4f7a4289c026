using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace JobWorker.Client;

/// <summary>Adds <see cref="IJobClient"/> to a service's container.</summary>
public static class JobClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds <see cref="IJobClient"/>, configured from the keys a worker of the deployment uses (<c>Jobs:QueueName</c>,
    /// <c>RabbitMq:*</c>) and the client's own section <c>JobClient</c>, validated at start. When the app has no MassTransit
    /// bus yet, one is added on those broker settings (no consumers); an app with its own bus (call
    /// <c>AddMassTransit</c> first) or an embedded worker shares it, which must then be RabbitMQ on the workers' broker.
    /// </summary>
    public static IServiceCollection AddJobWorkerClient(this IServiceCollection services, IConfiguration configuration, Action<JobClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services.AddJobWorkerClient(options =>
        {
            options.QueueName = configuration["Jobs:QueueName"] ?? options.QueueName;
            configuration.GetSection("RabbitMq").Bind(options.RabbitMq);
            configuration.GetSection(JobClientOptions.Section).Bind(options);
            configure?.Invoke(options);
        });
    }

    /// <summary><see cref="AddJobWorkerClient(IServiceCollection, IConfiguration, Action{JobClientOptions}?)"/> with the options set in code.</summary>
    public static IServiceCollection AddJobWorkerClient(this IServiceCollection services, Action<JobClientOptions> configure)
    {
        services.AddOptions<JobClientOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<JobClientOptions>, JobClientOptionsValidator>());
        services.TryAddSingleton<IJobClient, JobClient>();
        if (!services.Any(d => d.ServiceType == typeof(IBus)))
        {
            services.AddMassTransit(bus =>
            {
                bus.DisableUsageTelemetry();
                bus.UsingRabbitMq((context, rabbit) =>
                {
                    var options = context.GetRequiredService<IOptions<JobClientOptions>>().Value.RabbitMq;
                    BrokerHost.Configure(rabbit, options.Nodes(), options.Hosts.Length > 0, options.VirtualHost, options.Username, options.Password);
                });
            });
        }

        return services;
    }
}
