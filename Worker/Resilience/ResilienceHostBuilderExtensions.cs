using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Resilience;

public static class ResilienceHostBuilderExtensions
{
    /// <summary>The transition pipeline (retry, pool reset, circuit breaker) and consumption pause while the database is down.</summary>
    public static IHostApplicationBuilder AddJobResilience(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ResilienceOptions>().BindConfiguration(ResilienceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ConsumptionPause>();
        services.AddReceiveEndpointObserver(sp => sp.GetRequiredService<ConsumptionPause>());
        services.AddSingleton<TransitionResilience>();
        services.AddHostedService<DatabaseProbe>();
        return builder;
    }
}
