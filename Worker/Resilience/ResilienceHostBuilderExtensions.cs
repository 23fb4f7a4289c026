using JobWorker.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace JobWorker.Resilience;

/// <summary>The resilience block: how every state transition survives database faults.</summary>
public static class ResilienceHostBuilderExtensions
{
    /// <summary>The transition pipeline (retry, pool reset, circuit breaker), the circuit's signal, and the probe that closes it.</summary>
    public static IHostApplicationBuilder AddJobResilience(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<ResilienceOptions>(ResilienceOptions.Section);
        services.AddSingleton<DatabaseCircuit>();
        services.AddSingleton<TransitionResilience>();
        services.AddHostedService<DatabaseProbe>();
        return builder;
    }
}
