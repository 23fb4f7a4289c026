using System.Text.Json;
using JobWorker.Cli;
using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace JobWorker.Tests.Cli;

/// <summary>
/// <c>RunJobWorkerAsync</c> on a host's own <see cref="WebApplicationBuilder"/>, in this process: <c>run</c> runs the
/// application that builder composes; the other commands read that builder's configuration.
/// </summary>
public sealed class JobWorkerCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    /// <summary>A handler that answers with a value from the host's configuration.</summary>
    private sealed class GreetingHandler(IConfiguration configuration) : IJobHandler
    {
        public const string JobType = "greeting";

        public Task<JsonElement?> RunAsync(JobRun job, CancellationToken cancellationToken) =>
            Task.FromResult<JsonElement?>(JsonSerializer.SerializeToElement(new { greeting = configuration["Greeting:Text"] }));
    }

    /// <summary>A builder as a team's Program.cs makes one, with the test settings as a configuration source of its own.</summary>
    private static WebApplicationBuilder OwnBuilder(string queue)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Configuration.AddInMemoryCollection(TestWorker.TestSettings(queue));
        return builder;
    }

    [Test, Description("The host's builder, with a configuration value of its own, is the application that `run` starts.")]
    public async Task Run_runs_the_application_of_the_hosts_own_builder()
    {
        var queue = TestWorker.UniqueQueue();
        var builder = OwnBuilder(queue);
        builder.Configuration.AddInMemoryCollection([new("Greeting:Text", "hello from the host's own configuration")]);
        builder.AddJobWorker().AddJobHandler<GreetingHandler>(GreetingHandler.JobType);
        var started = new TaskCompletionSource<WebApplication>(TaskCreationOptions.RunContinuationsAsynchronously);

        var run = builder.RunJobWorkerAsync(["run"], app =>
        {
            app.MapJobWorkerHealth();
            app.Lifetime.ApplicationStarted.Register(() => started.TrySetResult(app));
        });
        try
        {
            var first = await Task.WhenAny(started.Task, run).WaitAsync(Timeout);
            Assert.That(first, Is.SameAs(started.Task), "run ended before the application started");
            var app = await started.Task;
            await using var client = await TestClient.StartAsync(queue);
            var job = TestJobs.Submit(GreetingHandler.JobType);
            await client.SendAsync(queue, [job]);

            var done = await TestJobs.WaitForStateAsync(job.JobId, JobState.Succeeded, Timeout);
            Assert.That(JsonDocument.Parse(done.Result!).RootElement.GetProperty("greeting").GetString(),
                Is.EqualTo("hello from the host's own configuration"));

            app.Lifetime.StopApplication();
            Assert.That(await run.WaitAsync(Timeout), Is.EqualTo(0), "run exits 0 once stopped");
        }
        finally
        {
            using var rabbit = new RabbitManagement();
            await rabbit.DeleteWorkerQueuesAsync(queue);
        }
    }

    [Test, Description("`status` reaches the database named only in the builder's own configuration (the executable's appsettings.json names another).")]
    public async Task Status_reads_the_configuration_of_the_hosts_own_builder()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        var builder = OwnBuilder(TestWorker.UniqueQueue());
        builder.AddJobWorker();

        var exitCode = await builder.RunJobWorkerAsync(["status", job.Id.ToString()], _ => Assert.Fail("status must not build the worker"));

        Assert.That(exitCode, Is.EqualTo(0));
    }

    [Test, Description("Issue 21, item 9: `bench` creates databases, so a team's host has it only when it asks; it may add commands of its own.")]
    public void Command_line_leaves_bench_out_unless_the_host_asks_for_it()
    {
        var builder = OwnBuilder(TestWorker.UniqueQueue());
        builder.AddJobWorker();

        var plain = JobWorkerCommand.Create(builder, _ => { }, new JobWorkerCommandLine());
        var asked = JobWorkerCommand.Create(builder, _ => { }, new JobWorkerCommandLine
        {
            IncludeBench = true,
            Configure = root => root.Subcommands.Add(new System.CommandLine.Command("reindex")),
        });

        Assert.That(plain.Subcommands.Select(c => c.Name), Does.Not.Contain("bench").And.Contain("submit").And.Contain("run"));
        Assert.That(plain.Parse(["bench"]).Errors, Is.Not.Empty, "`bench` is an unknown command");
        Assert.That(asked.Subcommands.Select(c => c.Name), Does.Contain("bench").And.Contain("reindex"));
    }

    [Test, Description("Review of issue 21: a publisher that called AddJobWorker() by mistake consumed the queue and failed other replicas' jobs as unknown.")]
    public async Task Run_exits_2_when_the_worker_has_no_job_handlers()
    {
        var builder = OwnBuilder(TestWorker.UniqueQueue());
        builder.AddJobWorker();

        var exitCode = await builder.RunJobWorkerAsync(["run"], _ => { }).WaitAsync(Timeout);
        var again = OwnBuilder(TestWorker.UniqueQueue());
        again.AddJobWorker();
        using var app = again.Build();
        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => _ = app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobHandlerCheck>>().Value);

        Assert.That(exitCode, Is.EqualTo(CliErrors.BadInput));
        Assert.That(refused!.Message, Does.Contain("No job handlers: add AddJobHandler<T>(type) or AddBuiltInHandlers()"));
    }

    [Test]
    public void RunJobWorkerAsync_refuses_a_builder_without_AddJobWorker()
    {
        var builder = WebApplication.CreateSlimBuilder();

        var refused = Assert.ThrowsAsync<InvalidOperationException>(() => builder.RunJobWorkerAsync(["run"], _ => { }));

        Assert.That(refused!.Message, Does.Contain("call builder.AddJobWorker()"));
    }
}
