using System.Net.Sockets;
using JobWorker.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Tests.Hosting;

public sealed class BrokerReasonHealthCheckTests
{
    private sealed class Failing(Exception exception) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Unhealthy("Not ready", exception));
    }

    [Test, Description("Review of issue 21: every /health/ready probe logged a fail: with a full stack while the broker was away.")]
    public async Task Check_reports_an_unreachable_broker_by_its_reason_without_the_exception()
    {
        var unreachable = new BrokerUnreachableException(new SocketException((int)SocketError.ConnectionRefused));

        var result = await new BrokerReasonHealthCheck(new Failing(unreachable)).CheckHealthAsync(new HealthCheckContext());

        Assert.That(result.Exception, Is.Null);
        Assert.That(result.Status, Is.EqualTo(HealthStatus.Unhealthy));
        Assert.That(result.Description, Does.StartWith("Not ready (RabbitMQ is unreachable: ").And.Contain("refused"));
    }

    [Test]
    public async Task Check_keeps_any_other_exception()
    {
        var other = new InvalidOperationException("something else");

        var result = await new BrokerReasonHealthCheck(new Failing(other)).CheckHealthAsync(new HealthCheckContext());

        Assert.That(result.Exception, Is.SameAs(other));
    }
}
