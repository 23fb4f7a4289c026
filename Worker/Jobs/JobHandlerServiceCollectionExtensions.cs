using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Jobs;

internal static class JobHandlerServiceCollectionExtensions
{
    /// <summary>Registers <typeparamref name="THandler"/> as the handler for <paramref name="jobType"/>.</summary>
    public static IServiceCollection AddJobHandler<THandler>(this IServiceCollection services, string jobType)
        where THandler : class, IJobHandler
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobType);
        services.AddKeyedScoped<IJobHandler, THandler>(jobType);
        services.AddSingleton(new JobHandlerRegistration(jobType));
        return services;
    }
}
