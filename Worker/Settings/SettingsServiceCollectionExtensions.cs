using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace JobWorker.Settings;

/// <summary>How every block registers its settings.</summary>
internal static class SettingsServiceCollectionExtensions
{
    /// <summary>
    /// Binds <typeparamref name="T"/> to <paramref name="section"/>, old keys of <see cref="RenamedSettings"/> included,
    /// and validates its data annotations when the host starts, so a bad value stops the worker with a message naming the key.
    /// </summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, string section) where T : class =>
        services.AddOptions<T>()
            .BindConfiguration(section)
            .Configure<IConfiguration>((options, configuration) => RenamedSettings.Apply(options, configuration, section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
}
