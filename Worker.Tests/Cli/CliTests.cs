using JobWorker.Hosting;
using JobWorker.Jobs;
using JobWorker.Persistence;

namespace JobWorker.Tests.Cli;

/// <summary>The <c>jobworker</c> command line as a user runs it: real process, environment configuration, exit codes.</summary>
public sealed class CliTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private static async Task<(int ExitCode, string Output)> RunAsync(Dictionary<string, string?> settings, params string[] args)
    {
        await using var process = WorkerProcess.Start(TestWorker.Executable, settings, args);
        var exitCode = await process.WaitForExitAsync(Timeout);
        return (exitCode, process.Output);
    }

    [Test]
    public async Task Submit_with_wait_follows_the_jobs_to_the_end_and_prints_a_summary()
    {
        await using var worker = await TestWorker.StartAsync();

        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(worker.Queue),
            "submit", "--type", "delay", "--payload", """{"ms": 20}""", "--count", "25", "--wait", "--wait-timeout", "00:00:45");

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("Submitted 25 delay jobs to queue " + worker.Queue));
        Assert.That(output, Does.Contain("succeeded    25"));
        Assert.That(output, Does.Contain("All 25 jobs Succeeded."));
        Assert.That(output, Does.Match(@"Replicas seen \(this queue, live heartbeat\)\W+1\W"), "the one replica of this queue, not every worker on the server");
    }

    [Test]
    public async Task Submit_with_wait_exits_non_zero_when_a_job_fails()
    {
        await using var worker = await TestWorker.StartAsync();

        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(worker.Queue),
            "submit", "--type", "delay", "--payload", """{"ms": -1}""", "--wait", "--wait-timeout", "00:00:45");

        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("1 of 1 jobs did not succeed"));
    }

    [Test]
    public async Task Queues_pause_and_resume_the_configured_queue_and_list_shows_who_paused_it_and_why()
    {
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());

        var (pauseExit, pauseOutput) = await RunAsync(settings, "queues", "pause", "--reason", "nightly backup");
        var (listExit, listOutput) = await RunAsync(settings, "queues");
        var (resumeExit, resumeOutput) = await RunAsync(settings, "queues", "resume");
        var (_, afterOutput) = await RunAsync(settings, "queues", "list");

        Assert.That(pauseExit, Is.EqualTo(0), pauseOutput);
        Assert.That(pauseOutput, Does.Contain($"Queue {settings["Jobs:QueueName"]} is paused"));
        Assert.That(listExit, Is.EqualTo(0), listOutput);
        Assert.That(listOutput, Does.Contain($"{settings["Jobs:QueueName"]}: PAUSED (paused by operator since").And.Contain("(cli) (nightly backup)"));
        Assert.That(resumeExit, Is.EqualTo(0), resumeOutput);
        Assert.That(resumeOutput, Does.Contain("is resumed"));
        Assert.That(afterOutput, Does.Contain($"{settings["Jobs:QueueName"]}: running"));
    }

    [Test]
    public async Task Submit_rejects_a_payload_that_is_not_json()
    {
        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            "submit", "--type", "delay", "--payload", "{ms: 5");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("--payload is not valid JSON"));
    }

    [Test]
    public async Task Status_reports_a_job_and_says_when_there_is_none()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());

        var (found, shown) = await RunAsync(settings, "status", job.Id.ToString());
        var missingId = Guid.NewGuid();
        var (missing, missingOutput) = await RunAsync(settings, "status", missingId.ToString());

        Assert.That(found, Is.EqualTo(0), shown);
        Assert.That(shown, Does.Contain(job.Id.ToString()).And.Contain("Pending").And.Contain("0 of 3"));
        Assert.That(missing, Is.EqualTo(1));
        Assert.That(missingOutput, Does.Contain($"no job with id {missingId}"));
    }

    [Test]
    public async Task Submit_rejects_a_priority_out_of_range()
    {
        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            "submit", "--type", "noop", "--priority", "10");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("--priority must be between 0 and 9"));
    }

    [Test]
    public async Task Status_shows_the_priority_of_a_job()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Priority: 7);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);

        var (exitCode, shown) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()), "status", job.Id.ToString());

        Assert.That(exitCode, Is.EqualTo(0), shown);
        Assert.That(shown, Does.Match(@"priority\s*│\s*7\s"));
    }

    [Test]
    public async Task Status_of_an_Awaiting_job_shows_the_parents_it_waits_for()
    {
        var parent = await JobFactory.InsertAsync(JobState.Running);
        var missing = Guid.NewGuid();
        var done = await JobFactory.InsertAsync(JobState.Succeeded);
        var child = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, After: [parent.Id, missing, done.Id]);
        await TestJobs.Store.AcceptAwaitingAsync(child, CancellationToken.None);

        var (exitCode, shown) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()), "status", child.Id.ToString());

        Assert.That(exitCode, Is.EqualTo(0), shown);
        Assert.That(shown, Does.Contain("Awaiting").And.Contain("once every parent job has Succeeded"));
        Assert.That(shown, Does.Contain($"{parent.Id} (Running)").And.Contain($"{missing} (not yet submitted)"));
        Assert.That(shown, Does.Not.Contain($"{done.Id} (Succeeded)"), "a finished parent is no longer waited for");
        Assert.That(shown, Does.Contain("3 parent job(s): 1 finished"));
    }

    [Test]
    public async Task Submit_rejects_after_with_a_schedule()
    {
        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            "submit", "--type", "noop", "--after", Guid.NewGuid().ToString(), "--in", "10m");

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(output, Does.Contain("give --after or --at/--in, not both"));
    }

    [Test]
    public async Task Submit_with_after_holds_the_job_until_its_parent_succeeds()
    {
        await using var worker = await TestWorker.StartAsync(new() { ["Continuations:Interval"] = "00:00:00.100" });
        var settings = TestWorker.TestSettings(worker.Queue);

        var (parentExit, parentOutput) = await RunAsync(settings, "submit", "--type", "delay", "--payload", """{"ms": 500}""");
        var parentId = Guid.Parse(System.Text.RegularExpressions.Regex.Match(parentOutput, "Submitted job ([0-9a-f-]{36})").Groups[1].Value);
        var (exitCode, output) = await RunAsync(settings,
            "submit", "--type", "noop", "--after", parentId.ToString(), "--wait", "--wait-timeout", "00:00:45");
        var parent = (await TestJobs.FindAsync(parentId))!;

        Assert.That(parentExit, Is.EqualTo(0), parentOutput);
        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("held until all 1 parent job(s) Succeeded").And.Contain("All 1 jobs Succeeded."));
        Assert.That(parent.State, Is.EqualTo(JobState.Succeeded));
    }

    [Test]
    public async Task Jobs_list_shows_the_jobs_in_a_state_and_of_a_type()
    {
        var type = $"list-{Guid.NewGuid():N}"[..16];
        var failed = new NewJob(Guid.NewGuid(), type, "{}", 3, null, null);
        var pending = new NewJob(Guid.NewGuid(), type, "{}", 3, null, null);
        await TestJobs.Store.AcceptAsync(failed, CancellationToken.None);
        await TestJobs.Store.AcceptAsync(pending, CancellationToken.None);
        await TestJobs.ApplyAsync(JobWorker.Jobs.JobLifecycle.Reject(failed.Id, failed.Type, "no such handler"));

        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()), "jobs", "list", "--state", "Failed", "--type", type);

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain(failed.Id.ToString()).And.Contain("no such handler").And.Contain("1 job(s)."));
        Assert.That(output, Does.Not.Contain(pending.Id.ToString()));
    }

    [Test]
    public async Task Jobs_retry_makes_a_failed_job_pending_again_and_a_worker_runs_it()
    {
        await using var worker = await TestWorker.StartAsync();
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 1, null, null, Queue: worker.Queue);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        await TestJobs.ApplyAsync(JobWorker.Jobs.JobLifecycle.Reject(job.Id, job.Type, "failed before"));

        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(worker.Queue), "jobs", "retry", job.Id.ToString());

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain($"Job {job.Id} is Pending again with 1 more attempt(s)"));
        var retried = await TestJobs.WaitForStateAsync(job.Id, JobState.Succeeded, Timeout);
        Assert.That(retried.Attempt, Is.EqualTo(1));
        Assert.That(retried.Error, Is.Null);
    }

    [Test]
    public async Task Jobs_cancel_cancels_a_scheduled_job_and_refuses_a_finished_one()
    {
        var scheduled = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null, Delay: TimeSpan.FromHours(1));
        var finished = new NewJob(Guid.NewGuid(), "noop", "{}", 1, null, null);
        await TestJobs.Store.AcceptAsync(scheduled, CancellationToken.None);
        await TestJobs.Store.AcceptAsync(finished, CancellationToken.None);
        await TestJobs.ApplyAsync(JobWorker.Jobs.JobLifecycle.Reject(finished.Id, finished.Type, "done"));
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());

        var (cancelled, output) = await RunAsync(settings, "jobs", "cancel", scheduled.Id.ToString(), "--reason", "not needed");
        var (refused, refusedOutput) = await RunAsync(settings, "jobs", "cancel", finished.Id.ToString());

        Assert.That(cancelled, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain($"Job {scheduled.Id} is Cancelled: not needed"));
        var row = await TestJobs.Store.FindAsync(scheduled.Id, CancellationToken.None);
        Assert.That((row!.State, row.Error), Is.EqualTo((JobState.Cancelled, "not needed")));
        Assert.That(refused, Is.EqualTo(1));
        Assert.That(refusedOutput, Does.Contain("has already finished: nothing to cancel"));
        Assert.That((await TestJobs.Store.FindAsync(finished.Id, CancellationToken.None))!.State, Is.EqualTo(JobState.Failed));
    }

    [Test]
    public async Task Jobs_purge_deletes_only_finished_jobs_past_their_retention()
    {
        var old = new NewJob(Guid.NewGuid(), "noop", "{}", 1, null, null);
        var recent = new NewJob(Guid.NewGuid(), "noop", "{}", 1, null, null);
        foreach (var job in new[] { old, recent })
        {
            await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
            await TestJobs.ApplyAsync(JobWorker.Jobs.JobLifecycle.Reject(job.Id, job.Type, "done"));
        }

        await using (var admin = new Npgsql.NpgsqlConnection(TestEnvironment.AdminConnectionString(TestEnvironment.DatabaseName)))
        {
            await admin.OpenAsync();
            await using var age = new Npgsql.NpgsqlCommand("UPDATE jobs SET finished_at = now() - interval '10 days' WHERE id = $1", admin)
            {
                Parameters = { new() { Value = old.Id } },
            };
            await age.ExecuteNonQueryAsync();
        }

        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()), "jobs", "purge", "--older-than", "7.00:00:00");

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output, Does.Match(@"Deleted [1-9]\d* finished job\(s\) older than 7\.00:00:00\."));
        Assert.That(await TestJobs.Store.FindAsync(old.Id, CancellationToken.None), Is.Null);
        Assert.That(await TestJobs.Store.FindAsync(recent.Id, CancellationToken.None), Is.Not.Null);
    }

    [TestCase("Jobs:ConcurrentJobs", "0", "Jobs:ConcurrentJobs must be between 1 and 10000.")]
    [TestCase("Jobs:ConcurrentJobs", "many", "'Jobs:ConcurrentJobs'")]
    [TestCase("Jobs:LeaseDuration", "00:00:00", "Jobs:LeaseDuration must be between 1 s and 1 h.")]
    [TestCase("Database:ConnectionString", "", "Database:ConnectionString is required")]
    [TestCase("Database:ConnectionString", "Host=127.0.0.1;Maximum Pool Size=nope", "Database:ConnectionString is not a valid Npgsql connection string")]
    [TestCase("RabbitMq:Port", "70000", "RabbitMq:Port must be between 1 and 65535.")]
    [TestCase("Health:Port", "70000", "Health:Port must be between 0 and 65535.")]
    [TestCase("Jobs:DrainTimeout", "02:00:00", "Jobs:DrainTimeout must be between 0 and 1 h.")]
    [TestCase("Handlers:Delay:Enabled", "maybe", "'Handlers:Delay:Enabled'")]
    [TestCase("Handlers:Dealy:Enabled", "false", "'Dealy'")]
    public async Task Run_stops_with_a_message_naming_an_invalid_setting(string key, string value, string message)
    {
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings[key] = value;

        var (exitCode, output) = await RunAsync(settings, "run");

        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("configuration error").And.Contain(message));
    }

    [Test]
    public async Task Migrate_applies_the_schema_and_is_idempotent()
    {
        var database = $"{TestEnvironment.DatabaseName}_cli";
        await TestEnvironment.RecreateDatabaseAsync(database);
        try
        {
            var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
            settings["Database:ConnectionString"] = $"Host={TestEnvironment.Host};Port={TestEnvironment.PostgresPort};Database={database};Username=jobworker";

            var (first, firstOutput) = await RunAsync(settings, "migrate");
            var (second, secondOutput) = await RunAsync(settings, "migrate");

            Assert.That(first, Is.EqualTo(0), firstOutput);
            Assert.That(firstOutput, Does.Contain("Applied 9 migration(s): 20261122000000_CreateJobs, 20261201000000_JobLedger, 20261202000000_OperatorViews, 20261203111154_DispatcherIndexes, 20261203121930_QueuePauses, 20261203132118_Continuations, 20261203140228_RecurringJobs, 20261203172101_FlowControl, 20261203225122_EnqueueChecks."));
            Assert.That(firstOutput, Does.Not.Contain("fail:"), "a fresh database must not log failed commands");
            Assert.That(second, Is.EqualTo(0), secondOutput);
            Assert.That(secondOutput, Does.Contain("nothing to apply"));
        }
        finally
        {
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }

    [Test]
    public async Task Migrate_says_when_the_database_cannot_be_reached()
    {
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings["Database:ConnectionString"] = "Host=127.0.0.1;Port=1;Database=x;Username=jobworker;Timeout=2";

        var (exitCode, output) = await RunAsync(settings, "migrate");

        Assert.That(exitCode, Is.EqualTo(3));
        Assert.That(output, Does.Contain("PostgreSQL at 127.0.0.1:1 is unreachable (Database:ConnectionString): Connection refused"));
    }

    [Test]
    public async Task Every_duration_option_takes_the_short_forms_as_submit_in_does()
    {
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());

        var (submitted, submitOutput) = await RunAsync(settings, "submit", "--type", "noop", "--in", "20s", "--timeout", "30s", "--wait-timeout", "5s");
        var (purged, purgeOutput) = await RunAsync(settings, "jobs", "purge", "--older-than", "3650d");

        Assert.That(submitted, Is.EqualTo(0), submitOutput);
        Assert.That(purged, Is.EqualTo(0), purgeOutput);
        Assert.That(purgeOutput, Does.Contain("older than 3650.00:00:00"));
    }

    [Test]
    public async Task A_duration_option_that_does_not_parse_exits_2_naming_the_option()
    {
        var (exitCode, output) = await RunAsync(TestWorker.TestSettings(TestWorker.UniqueQueue()),
            "submit", "--type", "noop", "--wait-timeout", "soon");

        Assert.That(exitCode, Is.EqualTo(2), output);
        Assert.That(output, Does.Contain("--wait-timeout 'soon' is not a duration such as 90s, 10m, 2h, 1d or 00:10:00"));
    }

    [Test]
    public async Task Commands_run_in_Development_where_the_host_validates_scopes()
    {
        var job = new NewJob(Guid.NewGuid(), "noop", "{}", 3, null, null);
        await TestJobs.Store.AcceptAsync(job, CancellationToken.None);
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings["DOTNET_ENVIRONMENT"] = "Development";

        var (submitted, submitOutput) = await RunAsync(settings, "submit", "--type", "noop");
        var (shown, statusOutput) = await RunAsync(settings, "status", job.Id.ToString());
        var (listed, listOutput) = await RunAsync(settings, "jobs", "list");
        var (queues, queuesOutput) = await RunAsync(settings, "queues", "list");

        Assert.That(submitted, Is.EqualTo(0), submitOutput);
        Assert.That(shown, Is.EqualTo(0), statusOutput);
        Assert.That(listed, Is.EqualTo(0), listOutput);
        Assert.That(queues, Is.EqualTo(0), queuesOutput);
    }

    [Test]
    public async Task Submit_says_in_one_line_which_broker_is_unreachable_and_exits_3()
    {
        var settings = TestWorker.TestSettings(TestWorker.UniqueQueue());
        settings["RabbitMq:Host"] = "127.0.0.1";
        settings["RabbitMq:Port"] = "1";
        settings["RabbitMq:Hosts"] = null;
        settings["RabbitMq:PublishTimeout"] = "00:00:05";
        var clock = System.Diagnostics.Stopwatch.StartNew();

        var (exitCode, output) = await RunAsync(settings, "submit", "--type", "noop");

        Assert.That(exitCode, Is.EqualTo(3), output);
        Assert.That(output, Does.Contain("RabbitMQ at 127.0.0.1:1 is unreachable (RabbitMq:Host/Port/Hosts): "));
        Assert.That(output, Does.Not.Contain("   at "), "one line, no stack trace");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(45)));
    }
}
