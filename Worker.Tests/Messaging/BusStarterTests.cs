using JobWorker.Messaging;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Messaging;

public sealed class BusStarterTests
{
    [Test, Description("Without MassTransit's hosted service the bus never started and readiness stayed Unhealthy for ever, silently.")]
    public void StartAfterListeners_throws_when_MassTransit_is_not_registered()
    {
        var services = new ServiceCollection();

        Assert.That(() => BusStarter.StartAfterListeners(services),
            Throws.InvalidOperationException.With.Message.Contains("MassTransit's hosted service is not registered"));
    }
}
