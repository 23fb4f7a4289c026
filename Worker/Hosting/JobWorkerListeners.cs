using System.Net;
using JobWorker.Dashboard;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace JobWorker.Hosting;

/// <summary>
/// Adds JobWorker's listeners (<c>Health:Port</c> on all interfaces; <c>Dashboard:Address:Dashboard:Port</c> when the
/// dashboard is on) to the host's server beside the application's own URLs, never instead of them.
/// </summary>
/// <remarks>
/// Kestrel serves either the addresses (<c>urls</c>, <c>ASPNETCORE_URLS</c>, <c>http_ports</c>, <c>app.Urls</c>) or
/// endpoints configured on its options, and a single endpoint added in code drops every address ("Overriding
/// address(es)"). So JobWorker adds addresses, as the application does, and only when the application configured
/// endpoints of its own (<c>Kestrel:Endpoints</c>) adds endpoints beside them.
/// </remarks>
internal sealed class JobWorkerListeners(
    IServiceProvider services, IConfiguration configuration, IOptions<HealthOptions> health, IOptions<DashboardOptions> dashboard)
    : IHostedLifecycleService
{
    /// <summary>Registers the listeners once, whatever the number of blocks that ask for them.</summary>
    public static void Register(IServiceCollection services)
    {
        // First of all hosted services: its StartedAsync, which checks what the server bound, then runs before the bus
        // starts (BusStarter starts it in its own StartedAsync), whatever order the blocks were added in.
        var descriptor = ServiceDescriptor.Singleton<IHostedService, JobWorkerListeners>();
        if (!services.Any(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(JobWorkerListeners)))
        {
            services.Insert(0, descriptor);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConfigureOptions<KestrelServerOptions>, KestrelEndpoints>());
    }

    /// <summary>
    /// Marks a process that is JobWorker's own (the executable, a team's host run through <c>RunJobWorkerAsync</c>, the
    /// standalone dashboard, the tests' and the bench's workers): it listens where configured and on JobWorker's ports,
    /// never on ASP.NET Core's default URL, which several replicas on one machine would fight over.
    /// </summary>
    internal static void OwnProcess(IServiceCollection services) => services.TryAddSingleton<OwnProcessMarker>();

    /// <summary>Before any hosted service starts, so whatever order the server was registered in, it binds these too.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (addresses is null || addresses.IsReadOnly || HasKestrelEndpoints(configuration))
        {
            return Task.CompletedTask;
        }

        if (addresses.Count == 0)
        {
            // The server reads the application's URLs from configuration only when nobody added an address; adding ours
            // would hide them, so they are added first, as it would.
            foreach (var url in ConfiguredUrls(configuration))
            {
                addresses.Add(url);
            }

            if (addresses.Count == 0 && services.GetService<OwnProcessMarker>() is null)
            {
                // A web application that embeds the worker and configured no URL keeps the one ASP.NET Core would have
                // bound for it, which JobWorker's own addresses would otherwise replace.
                addresses.Add(DefaultUrl);
            }
        }

        var healthPort = health.Value.Port;
        if (healthPort != 0 && addresses.FirstOrDefault(a => PortOf(a) == healthPort) is { } shared && !ServesAllInterfacesOverHttp(shared))
        {
            // The probes come from the kubelet or Docker over plain http, from outside the process's loopback.
            throw Refused($"Health:Port {healthPort} is also the application's URL {shared}, which does not serve the probes over http on "
                + $"all interfaces; use http://*:{healthPort} for that URL, or set Health:Port to a port of its own");
        }

        foreach (var (url, port) in Own(health.Value, dashboard.Value))
        {
            // An application URL on the same port already serves every endpoint there; binding it twice would fail.
            if (port == 0 || !addresses.Any(a => PortOf(a) == port))
            {
                addresses.Add(url);
            }
        }

        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// After the server started and before the bus does: endpoints the application set in code (<c>ConfigureKestrel</c>)
    /// make Kestrel drop every added address, ours included, with no more than an "Overriding address(es)" line.
    /// </summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var bound = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        if (bound is null)
        {
            return Task.CompletedTask;
        }

        foreach (var (setting, port) in Checked(health.Value, dashboard.Value))
        {
            if (!bound.Any(a => PortOf(a) == port))
            {
                throw Refused($"{setting} {port} is not bound: the application's Kestrel endpoints set in code replace added addresses; "
                    + $"listen on {port} in ConfigureKestrel too, or set {setting} to a port the application listens on");
            }
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>JobWorker's own listeners: the address and the port of each.</summary>
    internal static IEnumerable<(string Url, int Port)> Own(HealthOptions health, DashboardOptions dashboard)
    {
        yield return ($"http://*:{health.Port}", health.Port);
        if (dashboard.Enabled && dashboard.Port != 0 && IPAddress.TryParse(dashboard.Address, out var address))
        {
            yield return ($"http://{new IPEndPoint(address, dashboard.Port)}", dashboard.Port);
        }
    }

    /// <summary>The listeners whose port is known before the start, by setting; a port of 0 is the server's choice.</summary>
    private static IEnumerable<(string Setting, int Port)> Checked(HealthOptions health, DashboardOptions dashboard)
    {
        if (health.Port != 0)
        {
            yield return ("Health:Port", health.Port);
        }

        if (dashboard.Enabled && dashboard.Port != 0)
        {
            yield return ("Dashboard:Port", dashboard.Port);
        }
    }

    /// <summary>Only a wildcard-host http address answers plain http probes from outside the machine.</summary>
    internal static bool ServesAllInterfacesOverHttp(string address)
    {
        try
        {
            var binding = BindingAddress.Parse(address);
            return string.Equals(binding.Scheme, "http", StringComparison.OrdinalIgnoreCase) && binding.Host is "*" or "+" or "0.0.0.0" or "[::]" or "::";
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>A listener setting the start cannot honour: reported as a configuration error (exit 2) naming it.</summary>
    private static OptionsValidationException Refused(string message) =>
        new(HealthOptions.Section, typeof(HealthOptions), [message]);

    /// <summary>
    /// The setting behind a listener on <paramref name="port"/> that could not be bound: <c>Health:Port</c> or
    /// <c>Dashboard:Port</c>, or null for the application's own URLs.
    /// </summary>
    internal static string? SettingFor(int port, IConfiguration configuration)
    {
        var health = new HealthOptions();
        var dashboard = new DashboardOptions();
        try
        {
            configuration.GetSection(HealthOptions.Section).Bind(health);
            configuration.GetSection(DashboardOptions.Section).Bind(dashboard);
        }
        catch (InvalidOperationException)
        {
            return null;
        }

        return port == health.Port ? "Health:Port" : port == dashboard.Port ? "Dashboard:Port" : null;
    }

    /// <summary>The application's own URLs, read as ASP.NET Core reads them: <c>urls</c>, else <c>http_ports</c> and <c>https_ports</c>.</summary>
    private static IEnumerable<string> ConfiguredUrls(IConfiguration configuration)
    {
        if (configuration["urls"] is { Length: > 0 } urls)
        {
            return urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        return Ports(configuration["http_ports"], "http").Concat(Ports(configuration["https_ports"], "https"));

        static IEnumerable<string> Ports(string? ports, string scheme) =>
            (ports ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(port => $"{scheme}://*:{port}");
    }

    private static bool HasKestrelEndpoints(IConfiguration configuration) => configuration.GetSection("Kestrel:Endpoints").GetChildren().Any();

    internal static int PortOf(string address)
    {
        try
        {
            return BindingAddress.Parse(address).Port;
        }
        catch (FormatException)
        {
            return -1;
        }
    }

    /// <summary>ASP.NET Core's URL for an application that configures none.</summary>
    internal const string DefaultUrl = "http://localhost:5000";

    private sealed class OwnProcessMarker;

    /// <summary>With endpoints of the application's own in Kestrel's configuration, JobWorker's are endpoints too, beside them.</summary>
    private sealed class KestrelEndpoints(IConfiguration configuration, IOptions<HealthOptions> health, IOptions<DashboardOptions> dashboard)
        : IConfigureOptions<KestrelServerOptions>
    {
        public void Configure(KestrelServerOptions options)
        {
            if (!HasKestrelEndpoints(configuration))
            {
                return;
            }

            options.ListenAnyIP(health.Value.Port);
            var board = dashboard.Value;
            if (board.Enabled && board.Port != 0 && IPAddress.TryParse(board.Address, out var address))
            {
                options.Listen(address, board.Port);
            }
        }
    }
}
