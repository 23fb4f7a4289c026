using System.Globalization;
using System.Reflection;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using JobWorker.Hosting;
using JobWorker.Jobs;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

// Deliberately outside JobWorker.Tests: the SetUpFixture there needs PostgreSQL and RabbitMQ, and these tests only
// read files.
namespace JobWorker.Deployment.Tests;

/// <summary>
/// No Docker engine or Kubernetes cluster exists where the tests run, so the deployment files (Dockerfile,
/// deploy/docker-compose.yml, deploy/k8s/) are checked against the code instead: setting names against the options
/// classes, probe paths and ports against <see cref="HealthOptions"/>, the queue and the drain timeout against
/// <see cref="JobOptions"/>, and no password in plain text.
/// </summary>
[TestFixture]
public sealed partial class DeploymentFilesTests
{
    /// <summary>Prefixes of variables read by the runtime or the OpenTelemetry SDK rather than an options class.</summary>
    private static readonly string[] StandardPrefixes = ["OTEL_", "DOTNET_", "ASPNETCORE_"];

    /// <summary>
    /// The compose file's throwaway postgres and rabbitmq containers may take their passwords from these variables
    /// with a dev-only default (<c>${POSTGRES_PASSWORD:-...}</c>). Nowhere else may a password have a default.
    /// </summary>
    private static readonly string[] ComposeDevPasswordVariables = ["POSTGRES_PASSWORD", "RABBITMQ_PASSWORD"];

    private const string Placeholder = "REPLACE_ME";
    private const string SecretExampleFile = "secret.example.yaml";
    private const string ComposeFile = "docker-compose.yml";

    private static readonly string[] WorkloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);
    private static readonly Lazy<IReadOnlyList<OptionsClass>> Options = new(FindOptionsClasses);

    private static string RepoRoot => Root.Value;
    private static string DeployDirectory => Path.Combine(RepoRoot, "deploy");
    private static string KubernetesDirectory => Path.Combine(DeployDirectory, "k8s");
    private static string ComposePath => Path.Combine(DeployDirectory, ComposeFile);
    private const string SampleDockerfile = "samples/ReportHost/Dockerfile";

    private static int DefaultHealthPort => new HealthOptions().Port;
    private static TimeSpan DefaultDrainTimeout => new JobOptions().DrainTimeout;

    [Test]
    public void Yaml_files_under_deploy_parse_when_read_with_YamlDotNet()
    {
        var files = YamlFiles(DeployDirectory);
        var problems = new List<string>();
        foreach (var file in files)
        {
            try
            {
                LoadYaml(file);
            }
            catch (YamlException e)
            {
                problems.Add($"{Relative(file)}: {e.Message} (line {e.Start.Line}, column {e.Start.Column})");
            }
        }

        Assert.That(files.Select(Relative), Does.Contain("deploy/docker-compose.yml").And.Contain("deploy/k8s/deployment.yaml"),
            "the deployment files were not found; is the repository root right?");
        Assert.That(problems, Is.Empty, "YAML that does not parse:\n" + string.Join("\n", problems));
    }

    [Test]
    public void Container_environment_names_only_real_settings_when_set_in_compose_kubernetes_or_the_dockerfile()
    {
        Assert.That(Options.Value.Select(o => o.Section),
            Is.SupersetOf(new[] { "Database", "RabbitMq", "Jobs", "Resilience", "Handlers", "Health" }),
            "options classes were not discovered in the jobworker assembly");

        var checkedNames = new List<string>();
        var problems = new List<string>();
        foreach (var (file, name) in EnvironmentNamesToCheck())
        {
            checkedNames.Add(name);
            if (WhyNotASetting(name) is { } reason)
                problems.Add($"{file}: environment variable {name} {reason}");
        }

        Assert.That(checkedNames, Does.Contain("Database__ConnectionString").And.Contain("Health__Port"),
            "no worker environment was found to check");
        Assert.That(problems, Is.Empty, "environment variables that name no setting:\n" + string.Join("\n", problems));
    }

    [Test]
    public void Kubernetes_probes_use_the_health_paths_and_port_when_the_deployment_sets_them()
    {
        var problems = new List<string>();
        var containers = KubernetesContainers().Where(c => c.Kind == "Deployment").ToList();
        Assert.That(containers, Is.Not.Empty, "no jobworker container in a Deployment under deploy/k8s");

        foreach (var container in containers)
        {
            var where = $"{container.File}: {container.Kind} {container.Workload}, container {container.Name}";
            if (HealthPortOf(container.Env, where, problems) is not { } port)
                continue;

            var named = Sequence(container.Node, "ports").OfType<YamlMappingNode>()
                .FirstOrDefault(p => Scalar(p, "name") == "health");
            if (named is null)
                problems.Add($"{where}: no containerPort named health");
            else if (Scalar(named, "containerPort") != port.ToString(CultureInfo.InvariantCulture))
                problems.Add($"{where}: containerPort health is {Scalar(named, "containerPort")}, but the health port (Health__Port) is {port}");

            CheckProbe(container, "livenessProbe", HealthOptions.LivePath, port, required: true, where, problems);
            CheckProbe(container, "readinessProbe", HealthOptions.ReadyPath, port, required: true, where, problems);
            CheckProbe(container, "startupProbe", null, port, required: false, where, problems);
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Compose_and_dockerfile_healthchecks_use_the_health_paths_and_port_when_they_name_them()
    {
        var problems = new List<string>();

        var dockerfile = ParseDockerfile();
        var dockerfileEnv = dockerfile.FinalStage.Where(i => i.Keyword == "ENV").SelectMany(i => ParseEnv(i.Arguments))
            .GroupBy(kv => kv.Key).ToDictionary(g => g.Key, g => (string?)g.Last().Value);
        var dockerfilePort = HealthPortOf(dockerfileEnv, "Dockerfile", problems);
        var exposed = dockerfile.FinalStage.Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Select(p => p.Split('/')[0]);
        if (dockerfilePort is { } health && !exposed.Contains(health.ToString(CultureInfo.InvariantCulture)))
            problems.Add($"Dockerfile: the runtime stage does not EXPOSE the health port {health} (Health__Port)");
        foreach (var healthcheck in dockerfile.FinalStage.Where(i => i.Keyword == "HEALTHCHECK" && !i.Arguments.Trim().Equals("NONE", StringComparison.OrdinalIgnoreCase)))
        {
            if (dockerfilePort is { } port)
                CheckHealthcheckCommand(healthcheck.Arguments, port, compose: false, $"Dockerfile line {healthcheck.Line}: HEALTHCHECK", problems);
        }

        foreach (var service in ComposeServices().Where(s => s.IsJobWorker))
        {
            var where = $"{Relative(ComposePath)}: service {service.Name}";
            var test = Get(service.Node, "healthcheck", "test");
            if (test is null || HealthPortOf(service.Env, where, problems) is not { } port)
                continue;
            var command = test is YamlSequenceNode sequence
                ? string.Join(" ", sequence.Children.OfType<YamlScalarNode>().Select(s => s.Value))
                : (test as YamlScalarNode)?.Value ?? "";
            CheckHealthcheckCommand(command, port, compose: true, $"{where} healthcheck", problems);
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Keda_trigger_watches_the_queue_the_worker_consumes()
    {
        var objects = KubernetesObjects();
        var problems = new List<string>();
        var triggers = 0;

        foreach (var scaled in objects.Where(o => o.Kind == "ScaledObject"))
        {
            var where = $"{scaled.File}: ScaledObject {scaled.Name}";
            var targetName = Scalar(scaled.Root, "spec", "scaleTargetRef", "name");
            var targetKind = Scalar(scaled.Root, "spec", "scaleTargetRef", "kind") ?? "Deployment";
            var targets = KubernetesContainers().Where(c => c.Kind == targetKind && c.Workload == targetName).ToList();
            if (targets.Count == 0)
            {
                problems.Add($"{where}: scaleTargetRef {targetKind} {targetName} is not a jobworker workload under deploy/k8s");
                continue;
            }

            var queueNames = targets.Select(t => Value(t.Env, "Jobs__QueueName") ?? new JobOptions().QueueName).Distinct().ToList();
            foreach (var trigger in Sequence(scaled.Root, "spec", "triggers").OfType<YamlMappingNode>()
                         .Where(t => Scalar(t, "type") == "rabbitmq"))
            {
                triggers++;
                var queue = Scalar(trigger, "metadata", "queueName");
                if (queueNames.Count != 1 || queue != queueNames[0])
                    problems.Add($"{where}: rabbitmq trigger queueName is '{queue}', but {targetKind} {targetName} consumes '{string.Join("', '", queueNames)}' (Jobs__QueueName, default '{new JobOptions().QueueName}')");

                var authName = Scalar(trigger, "authenticationRef", "name");
                if (authName is not null && !objects.Any(o => o.Kind == "TriggerAuthentication" && o.Name == authName))
                    problems.Add($"{where}: authenticationRef {authName} names no TriggerAuthentication under deploy/k8s");
            }
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
        Assert.That(triggers, Is.GreaterThan(0), "no KEDA ScaledObject with a rabbitmq trigger under deploy/k8s");
    }

    [Test]
    public void Grace_periods_exceed_the_drain_timeout_when_the_worker_is_stopped()
    {
        var problems = new List<string>();

        // Only what runs jobs drains them: the dashboard (`jobworker dashboard`) and migrate hold none.
        var deployments = KubernetesContainers().Where(c => c.Kind == "Deployment" && RunsJobs(Get(c.Node, "args"))).ToList();
        Assert.That(deployments, Is.Not.Empty, "no jobworker container in a Deployment under deploy/k8s");
        foreach (var container in deployments)
        {
            var where = $"{container.File}: {container.Kind} {container.Workload}";
            if (DrainTimeoutOf(container.Env, where, problems) is not { } drain)
                continue;
            // Kubernetes' default when the field is absent.
            var grace = Scalar(container.PodSpec, "terminationGracePeriodSeconds") is { } text
                ? TimeSpan.FromSeconds(double.Parse(text, CultureInfo.InvariantCulture))
                : TimeSpan.FromSeconds(30);
            if (grace <= drain)
                problems.Add($"{where}: terminationGracePeriodSeconds ({grace.TotalSeconds} s) must be greater than Jobs:DrainTimeout ({drain.TotalSeconds} s)");
        }

        var workers = ComposeServices().Where(s => s.IsJobWorker && RunsJobs(Get(s.Node, "command"))).ToList();
        Assert.That(workers, Is.Not.Empty, "no jobworker service that runs jobs in the compose file");
        foreach (var service in workers)
        {
            var where = $"{Relative(ComposePath)}: service {service.Name}";
            if (DrainTimeoutOf(service.Env, where, problems) is not { } drain)
                continue;
            // Docker's default when stop_grace_period is absent.
            var text = Scalar(service.Node, "stop_grace_period");
            if (text is null)
            {
                problems.Add($"{where}: no stop_grace_period; Docker's default 10 s is not greater than Jobs:DrainTimeout ({drain.TotalSeconds} s)");
                continue;
            }
            if (ParseComposeDuration(text) is not { } grace)
                problems.Add($"{where}: stop_grace_period '{text}' is not a duration");
            else if (grace <= drain)
                problems.Add($"{where}: stop_grace_period ({grace.TotalSeconds} s) must be greater than Jobs:DrainTimeout ({drain.TotalSeconds} s)");
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Deploy_files_hold_no_literal_password_when_read_as_text()
    {
        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(DeployDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file);
            var fileName = Path.GetFileName(file);
            var isSecretExample = fileName == SecretExampleFile;
            var isCompose = Path.GetFullPath(file) == Path.GetFullPath(ComposePath);

            foreach (Match match in PasswordKeyword().Matches(text))
            {
                var value = match.Groups["value"].Value;
                if (value.Length > 0 && WhyLiteralPassword(value, isSecretExample, isCompose) is { } reason)
                    problems.Add($"{Relative(file)} line {LineOf(text, match.Index)}: '{match.Value}' {reason}");
            }

            foreach (Match match in AmqpUserInfo().Matches(text))
            {
                // RabbitMQ's built-in guest account, which the broker accepts from loopback only (deploy/local).
                if (match.Groups["user"].Value == "guest" && match.Groups["password"].Value == "guest")
                    continue;
                if (WhyLiteralPassword(match.Groups["password"].Value, isSecretExample, isCompose) is { } reason)
                    problems.Add($"{Relative(file)} line {LineOf(text, match.Index)}: '{match.Value}' {reason}");
            }
        }

        // Password-like variables in the compose file must come from the environment too.
        foreach (var service in ComposeServices())
        {
            foreach (var (name, value) in service.Env.Where(e => e.Key.Contains("PASS", StringComparison.OrdinalIgnoreCase)))
            {
                if (value is null || WhyLiteralPassword(value, isSecretExample: false, isCompose: true) is not { } reason)
                    continue;
                problems.Add($"{Relative(ComposePath)}: service {service.Name}, {name}: '{value}' {reason}");
            }
        }

        Assert.That(problems, Is.Empty, "passwords written in plain text:\n" + string.Join("\n", problems));
    }

    [Test]
    public void Secret_example_holds_only_placeholders_and_the_keys_the_manifests_use()
    {
        var path = Path.Combine(KubernetesDirectory, SecretExampleFile);
        var secrets = KubernetesObjects().Where(o => o.Kind == "Secret").ToList();
        Assert.That(secrets.Select(s => s.File), Is.All.EqualTo(Relative(path)),
            $"Secret manifests belong in {SecretExampleFile} only, with placeholders");
        var secret = secrets.SingleOrDefault(s => s.Name == "jobworker-secrets");
        Assert.That(secret, Is.Not.Null, $"{Relative(path)} defines no Secret jobworker-secrets");

        var problems = new List<string>();
        if (Get(secret!.Root, "data") is not null)
            problems.Add($"{secret.File}: uses data (base64); write placeholders in stringData instead");
        if (Scalar(secret.Root, "metadata", "labels", "jobworker.example/placeholder") != "true")
            problems.Add($"{secret.File}: lacks the label jobworker.example/placeholder: \"true\" that deploy/README.md's kubectl apply -l excludes");

        var values = (Get(secret.Root, "stringData") as YamlMappingNode)?.Children
            .ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value) ?? [];
        foreach (var (key, value) in values.Where(kv => kv.Value is null || !kv.Value.Contains(Placeholder, StringComparison.Ordinal)))
            problems.Add($"{secret.File}: stringData {key} is '{value}', not a {Placeholder} placeholder");

        // Every secret reference in the manifests names a key the example shows.
        foreach (var (file, where, name, key) in SecretReferences())
        {
            if (name != secret.Name)
                problems.Add($"{file}: {where} reads Secret {name}, which no file under deploy/k8s describes");
            else if (!values.ContainsKey(key))
                problems.Add($"{file}: {where} reads key {key}, which {secret.File} does not show");
        }

        Assert.That(values.Keys, Is.SupersetOf(new[] { "database-connection-string", "rabbitmq-password", "rabbitmq-uri" }));
        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Kubernetes_containers_take_the_connection_string_and_passwords_from_secrets()
    {
        var problems = new List<string>();
        var containers = KubernetesContainers().ToList();
        foreach (var container in containers)
        {
            var where = $"{container.File}: {container.Kind} {container.Workload}, container {container.Name}";
            foreach (var entry in Sequence(container.Node, "env").OfType<YamlMappingNode>())
            {
                var name = Scalar(entry, "name") ?? "";
                if (!IsSecretSetting(name))
                    continue;
                if (Get(entry, "valueFrom", "secretKeyRef") is null)
                    problems.Add($"{where}: {name} must come from valueFrom.secretKeyRef");
            }
            if (!container.Env.ContainsKey("Database__ConnectionString"))
                problems.Add($"{where}: sets no Database__ConnectionString");
        }
        Assert.That(containers.Where(c => c.Kind == "Deployment").SelectMany(c => c.Env.Keys), Does.Contain("RabbitMq__Password"),
            "the worker Deployment must set RabbitMq__Password from the Secret");

        foreach (var map in KubernetesObjects().Where(o => o.Kind == "ConfigMap"))
        {
            foreach (var key in Keys(map.Root, "data").Where(IsSecretSetting))
                problems.Add($"{map.File}: ConfigMap {map.Name} holds {key}; it belongs in the Secret");
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Pdb_selector_matches_the_worker_pods()
    {
        var objects = KubernetesObjects();
        var budgets = objects.Where(o => o.Kind == "PodDisruptionBudget").ToList();
        Assert.That(budgets, Is.Not.Empty, "no PodDisruptionBudget under deploy/k8s");

        var problems = new List<string>();
        var podLabels = KubernetesContainers().Where(c => c.Kind == "Deployment")
            .Select(c => (c.Workload, Labels: Pairs(c.Template, "metadata", "labels"))).Distinct().ToList();
        foreach (var budget in budgets)
        {
            var selector = Pairs(budget.Root, "spec", "selector", "matchLabels");
            if (selector.Count == 0)
                problems.Add($"{budget.File}: PodDisruptionBudget {budget.Name} has no selector.matchLabels");
            else if (!podLabels.Any(p => selector.All(kv => p.Labels.TryGetValue(kv.Key, out var v) && v == kv.Value)))
                problems.Add($"{budget.File}: PodDisruptionBudget {budget.Name} selects no worker Deployment's pods");
            if (Get(budget.Root, "spec", "minAvailable") is null && Get(budget.Root, "spec", "maxUnavailable") is null)
                problems.Add($"{budget.File}: PodDisruptionBudget {budget.Name} sets neither minAvailable nor maxUnavailable");
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test]
    public void Collector_pipelines_use_only_components_the_config_defines()
    {
        var path = Path.Combine(DeployDirectory, "otel-collector.yaml");
        var root = (YamlMappingNode)LoadYaml(path).Single();
        var problems = new List<string>();

        var pipelines = Get(root, "service", "pipelines") as YamlMappingNode;
        var names = pipelines?.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).ToList() ?? [];
        Assert.That(names, Is.SupersetOf(new[] { "traces", "metrics", "logs" }), $"{Relative(path)}: pipelines");

        foreach (var pipeline in names)
        {
            foreach (var kind in new[] { "receivers", "processors", "exporters" })
            {
                var defined = Keys(root, kind).ToHashSet();
                foreach (var used in Sequence(pipelines!, pipeline, kind).OfType<YamlScalarNode>().Select(s => s.Value!))
                {
                    if (!defined.Contains(used))
                        problems.Add($"{Relative(path)}: pipeline {pipeline} uses {kind} {used}, which is not defined");
                }
            }
        }

        Assert.That(problems, Is.Empty, string.Join("\n", problems));
    }

    [Test, Description("The Prometheus route: JobWorker has no scrape endpoint, so the collector serves the metrics it receives.")]
    public void Collector_serves_the_metrics_it_receives_for_prometheus_on_the_port_compose_publishes()
    {
        var path = Path.Combine(DeployDirectory, "otel-collector.yaml");
        var root = (YamlMappingNode)LoadYaml(path).Single();

        var endpoint = (Get(root, "exporters", "prometheus", "endpoint") as YamlScalarNode)?.Value;
        var metricsExporters = Sequence((YamlMappingNode)Get(root, "service", "pipelines")!, "metrics", "exporters")
            .OfType<YamlScalarNode>().Select(s => s.Value).ToList();

        Assert.That(endpoint, Is.EqualTo("0.0.0.0:9464"), $"{Relative(path)}: the prometheus exporter's endpoint");
        Assert.That(metricsExporters, Does.Contain("prometheus"), $"{Relative(path)}: the metrics pipeline exports to prometheus");
        Assert.That(File.ReadAllText(ComposePath), Does.Contain("\"127.0.0.1:9464:9464\""), "compose publishes the scrape port on loopback");
    }

    [TestCase("Dockerfile")]
    [TestCase(SampleDockerfile)]
    public void Dockerfile_runs_as_a_non_root_user_in_its_runtime_stage(string path)
    {
        var dockerfile = ParseDockerfile(path);
        var user = dockerfile.FinalStage.LastOrDefault(i => i.Keyword == "USER");
        Assert.That(user, Is.Not.Null, "the Dockerfile's runtime stage sets no USER, so the worker would run as root");

        var name = user!.Arguments.Trim().Split(':')[0];
        // $APP_UID is the .NET images' own variable for their `app` user (1654).
        var nonRoot = name is "app" or "$APP_UID" or "${APP_UID}"
            || (int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var uid) ? uid != 0 : name != "root");
        Assert.That(nonRoot, Is.True, $"{path} line {user.Line}: USER {user.Arguments} is root");
    }

    [TestCase("Dockerfile")]
    [TestCase(SampleDockerfile)]
    public void Dockerfile_runtime_stage_is_the_aspnet_image_of_the_worker_target_framework(string path)
    {
        var from = ParseDockerfile(path).FinalStage.First();
        var image = from.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .First(a => !a.StartsWith("--", StringComparison.Ordinal));

        // ".NETCoreApp,Version=v10.0" -> "10.0"
        var framework = typeof(JobOptions).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName;
        var version = framework[(framework.IndexOf("Version=v", StringComparison.Ordinal) + "Version=v".Length)..];

        Assert.That(image, Does.StartWith($"mcr.microsoft.com/dotnet/aspnet:{version}"),
            $"{path} line {from.Line}: the runtime stage must be the ASP.NET Core {version} image (the worker serves its health endpoints with Kestrel)");
    }

    // ---- environment variables and settings ----

    private sealed record OptionsClass(string Section, Type Type);

    private static List<OptionsClass> FindOptionsClasses() =>
        typeof(JobOptions).Assembly.GetTypes()
            .Where(t => t.Name.EndsWith("Options", StringComparison.Ordinal))
            .Select(t => (Type: t, Field: t.GetField("Section", BindingFlags.Public | BindingFlags.Static)))
            .Where(x => x.Field is { IsLiteral: true } && x.Field.FieldType == typeof(string))
            .Select(x => new OptionsClass((string)x.Field!.GetRawConstantValue()!, x.Type))
            .ToList();

    /// <summary>Why <paramref name="name"/> is not a setting the worker reads, or null when it is one.</summary>
    private static string? WhyNotASetting(string name)
    {
        if (StandardPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            return null;
        // Standard .NET logging levels (docs/configuration.md lists Logging__LogLevel__Default).
        if (LoggingLevel().IsMatch(name))
            return null;

        var parts = name.Split("__");
        if (parts.Length < 2 || parts.Any(p => p.Length == 0))
            return $"is not Section__Key, nor a standard {string.Join("/", StandardPrefixes.Select(p => p + "*"))}/Logging__LogLevel__* variable";

        var classes = Options.Value.Where(o => string.Equals(o.Section, parts[0], StringComparison.OrdinalIgnoreCase)).ToList();
        if (classes.Count == 0)
            return $"names section '{parts[0]}', which is no options class's Section (known: {string.Join(", ", Options.Value.Select(o => o.Section).Order(StringComparer.Ordinal))})";
        if (classes.Any(o => IsSettingPath(o.Type, parts.AsSpan(1))))
            return null;
        return $"names no public settable property '{string.Join(":", parts[1..])}' of {string.Join(" or ", classes.Select(o => o.Type.Name))} (section {parts[0]})";
    }

    /// <summary>Whether <paramref name="keys"/> lead, property by property, from <paramref name="type"/> to a bindable value.</summary>
    private static bool IsSettingPath(Type type, ReadOnlySpan<string> keys)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (keys.IsEmpty)
            return IsScalar(type);
        if (IsScalar(type))
            return false;

        if (type.IsArray)
            return int.TryParse(keys[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) && IsSettingPath(type.GetElementType()!, keys[1..]);
        var generic = type.GetInterfaces().Append(type).Where(i => i.IsGenericType).Select(i => (Definition: i.GetGenericTypeDefinition(), Arguments: i.GetGenericArguments())).ToList();
        if (generic.FirstOrDefault(g => g.Definition == typeof(IDictionary<,>) || g.Definition == typeof(IReadOnlyDictionary<,>)) is { Arguments: not null } dictionary)
            return IsSettingPath(dictionary.Arguments[1], keys[1..]);
        if (generic.FirstOrDefault(g => g.Definition == typeof(IEnumerable<>)) is { Arguments: not null } sequence)
            return int.TryParse(keys[0], NumberStyles.None, CultureInfo.InvariantCulture, out _) && IsSettingPath(sequence.Arguments[0], keys[1..]);

        var property = type.GetProperty(keys[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        if (property is null || property.GetIndexParameters().Length > 0 || property.GetMethod is not { IsPublic: true })
            return false;
        var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        // A value needs a public setter; an object the binder can also fill in through its getter.
        if (IsScalar(propertyType) && property.SetMethod is not { IsPublic: true })
            return false;
        return IsSettingPath(propertyType, keys[1..]);
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
        || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(DateOnly) || type == typeof(TimeOnly)
        || type == typeof(Guid) || type == typeof(Uri);

    /// <summary>(file, variable) for everything set in the worker's and migrate's environment.</summary>
    private static IEnumerable<(string File, string Name)> EnvironmentNamesToCheck()
    {
        foreach (var service in ComposeServices().Where(s => s.IsJobWorker))
        {
            foreach (var name in service.Env.Keys)
                yield return ($"{Relative(ComposePath)} (service {service.Name})", name);
        }

        foreach (var container in KubernetesContainers())
        {
            foreach (var entry in Sequence(container.Node, "env").OfType<YamlMappingNode>())
                yield return ($"{container.File} ({container.Kind} {container.Workload}, container {container.Name})", Scalar(entry, "name") ?? "");
        }

        foreach (var map in KubernetesObjects().Where(o => o.Kind == "ConfigMap"))
        {
            foreach (var key in Keys(map.Root, "data"))
                yield return ($"{map.File} (ConfigMap {map.Name})", key);
        }

        foreach (var env in ParseDockerfile().All.Where(i => i.Keyword == "ENV"))
        {
            foreach (var name in ParseEnv(env.Arguments).Select(kv => kv.Key).Where(n => n.Contains("__", StringComparison.Ordinal)))
                yield return ($"Dockerfile line {env.Line}", name);
        }
    }

    private static bool IsSecretSetting(string name) =>
        name.Contains("password", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Database__ConnectionString", StringComparison.OrdinalIgnoreCase);

    private static string? Value(IReadOnlyDictionary<string, string?> env, string name) =>
        env.FirstOrDefault(kv => kv.Key.Equals(name, StringComparison.OrdinalIgnoreCase)).Value;

    private static int? HealthPortOf(IReadOnlyDictionary<string, string?> env, string where, List<string> problems)
    {
        var text = Value(env, "Health__Port");
        if (text is null)
            return DefaultHealthPort;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port))
            return port;
        problems.Add($"{where}: Health__Port '{text}' is not a port number");
        return null;
    }

    private static TimeSpan? DrainTimeoutOf(IReadOnlyDictionary<string, string?> env, string where, List<string> problems)
    {
        var text = Value(env, "Jobs__DrainTimeout");
        if (text is null)
            return DefaultDrainTimeout;
        // The configuration binder reads TimeSpan with the invariant culture.
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var drain))
            return drain;
        problems.Add($"{where}: Jobs__DrainTimeout '{text}' is not a TimeSpan");
        return null;
    }

    // ---- probes and healthchecks ----

    private static void CheckProbe(KubernetesContainer container, string probe, string? expectedPath, int expectedPort, bool required, string where, List<string> problems)
    {
        var httpGet = Get(container.Node, probe, "httpGet");
        if (httpGet is null)
        {
            if (required)
                problems.Add($"{where}: {probe} has no httpGet (expected {expectedPath} on port {expectedPort})");
            return;
        }

        var path = Scalar(httpGet, "path");
        if (expectedPath is not null && path != expectedPath)
            problems.Add($"{where}: {probe} path is '{path}', expected '{expectedPath}' (HealthOptions)");
        else if (expectedPath is null && path != HealthOptions.LivePath && path != HealthOptions.ReadyPath)
            problems.Add($"{where}: {probe} path is '{path}', expected '{HealthOptions.LivePath}' or '{HealthOptions.ReadyPath}' (HealthOptions)");

        var port = Scalar(httpGet, "port");
        int? number = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? n
            : Sequence(container.Node, "ports").OfType<YamlMappingNode>().Where(p => Scalar(p, "name") == port)
                .Select(p => (int?)int.Parse(Scalar(p, "containerPort")!, CultureInfo.InvariantCulture)).FirstOrDefault();
        if (number is null)
            problems.Add($"{where}: {probe} port '{port}' is neither a number nor a named containerPort");
        else if (number != expectedPort)
            problems.Add($"{where}: {probe} port '{port}' is {number}, but the health port (Health__Port) is {expectedPort}");
    }

    /// <summary>Checks the paths and ports a healthcheck command names (a GET line, a URL, bash's /dev/tcp/host/port).</summary>
    private static void CheckHealthcheckCommand(string command, int expectedPort, bool compose, string where, List<string> problems)
    {
        var paths = HttpRequestPath().Matches(command).Select(m => m.Groups["path"].Value)
            .Concat(LocalUrl().Matches(command).Where(m => m.Groups["path"].Success).Select(m => m.Groups["path"].Value));
        foreach (var path in paths)
        {
            if (path != HealthOptions.LivePath && path != HealthOptions.ReadyPath)
                problems.Add($"{where}: requests '{path}', expected '{HealthOptions.LivePath}' or '{HealthOptions.ReadyPath}' (HealthOptions)");
        }

        var ports = DevTcp().Matches(command).Select(m => m.Groups["port"].Value)
            .Concat(LocalUrl().Matches(command).Where(m => m.Groups["port"].Success).Select(m => m.Groups["port"].Value));
        foreach (var port in ports)
        {
            if (WhyNotHealthPort(port, expectedPort, compose) is { } reason)
                problems.Add($"{where}: port '{port}' {reason}");
        }
    }

    private static string? WhyNotHealthPort(string token, int expectedPort, bool compose)
    {
        if (int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
            return number == expectedPort ? null : $"is not the health port {expectedPort} (Health__Port)";

        if (compose)
        {
            // Compose replaces ${...} from the host's environment before the container sees it; $$ escapes that.
            if (!token.StartsWith("$$", StringComparison.Ordinal))
                return "would be interpolated by compose from the host's environment; write $$ to read the container's";
            token = token[1..];
        }
        var reference = VariableReference().Match(token);
        if (!reference.Success || reference.Groups["name"].Value != "Health__Port")
            return "refers to something other than Health__Port";
        if (reference.Groups["default"].Success && reference.Groups["default"].Value != expectedPort.ToString(CultureInfo.InvariantCulture))
            return $"falls back to {reference.Groups["default"].Value}, not the health port {expectedPort}";
        return null;
    }

    // ---- passwords ----

    /// <summary>Why <paramref name="value"/>, written where a password goes, is a literal password; null when it is a reference.</summary>
    private static string? WhyLiteralPassword(string value, bool isSecretExample, bool isCompose)
    {
        var reference = VariableReference().Match(value);
        if (isSecretExample)
        {
            // Placeholders, or a variable in the example commands of its comments.
            return value == Placeholder || (reference.Success && reference.Length == value.Length && !reference.Groups["default"].Success)
                ? null
                : $"is not the placeholder {Placeholder}";
        }

        if (!reference.Success || reference.Length != value.Length)
            return "is a literal password; use a Secret reference (secretKeyRef) or an environment variable";
        if (!reference.Groups["default"].Success || reference.Groups["default"].Value.Length == 0)
            return null;
        if (isCompose && ComposeDevPasswordVariables.Contains(reference.Groups["name"].Value))
            return null;
        return $"has a default password; only the compose file's throwaway {string.Join(" and ", ComposeDevPasswordVariables)} may";
    }

    private static int LineOf(string text, int index) => text.AsSpan(0, index).Count('\n') + 1;

    // ---- compose ----

    private sealed record ComposeService(string Name, YamlMappingNode Node, IReadOnlyDictionary<string, string?> Env)
    {
        /// <summary>Built from the top-level Dockerfile, or running the jobworker image.</summary>
        public bool IsJobWorker => Get(Node, "build") is not null || ImageName(Scalar(Node, "image")).StartsWith("jobworker", StringComparison.Ordinal);
    }

    private static List<ComposeService> ComposeServices()
    {
        var root = (YamlMappingNode)LoadYaml(ComposePath).Single();
        var services = (YamlMappingNode)Get(root, "services")!;
        return services.Children.Select(kv =>
        {
            var node = (YamlMappingNode)kv.Value;
            var env = new Dictionary<string, string?>(StringComparer.Ordinal);
            switch (Get(node, "environment"))
            {
                case YamlMappingNode map:
                    foreach (var (key, value) in map.Children)
                        env[((YamlScalarNode)key).Value!] = (value as YamlScalarNode)?.Value;
                    break;
                case YamlSequenceNode list:
                    foreach (var item in list.Children.OfType<YamlScalarNode>().Select(s => s.Value!))
                    {
                        var equals = item.IndexOf('=', StringComparison.Ordinal);
                        env[equals < 0 ? item : item[..equals]] = equals < 0 ? null : item[(equals + 1)..];
                    }
                    break;
            }
            return new ComposeService(((YamlScalarNode)kv.Key).Value!, node, env);
        }).ToList();
    }

    /// <summary>A service running <c>jobworker migrate</c>, which exits instead of draining jobs.</summary>
    /// <summary>Whether a command (compose <c>command</c>, Kubernetes <c>args</c>) runs the worker: absent (the image's default, <c>run</c>) or <c>run</c>.</summary>
    private static bool RunsJobs(YamlNode? command) => command switch
    {
        null => true,
        YamlSequenceNode list => list.Children.OfType<YamlScalarNode>().FirstOrDefault()?.Value is null or "run",
        YamlScalarNode text => text.Value?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() is null or "run",
        _ => true,
    };

    private static TimeSpan? ParseComposeDuration(string text)
    {
        var matches = DurationPart().Matches(text);
        if (matches.Count == 0 || matches.Sum(m => m.Length) != text.Length)
            return null;
        return matches.Aggregate(TimeSpan.Zero, (total, m) =>
        {
            var amount = double.Parse(m.Groups["amount"].Value, CultureInfo.InvariantCulture);
            return total + m.Groups["unit"].Value switch
            {
                "h" => TimeSpan.FromHours(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "s" => TimeSpan.FromSeconds(amount),
                "ms" => TimeSpan.FromMilliseconds(amount),
                _ => TimeSpan.FromMicroseconds(amount),
            };
        });
    }

    // ---- kubernetes ----

    private sealed record KubernetesObject(string File, string Kind, string Name, YamlMappingNode Root);

    private sealed record KubernetesContainer(
        string File, string Kind, string Workload, string Name,
        YamlMappingNode Template, YamlMappingNode PodSpec, YamlMappingNode Node,
        IReadOnlyDictionary<string, string?> Env);

    private static List<KubernetesObject> KubernetesObjects() =>
        YamlFiles(KubernetesDirectory)
            .SelectMany(file => LoadYaml(file).OfType<YamlMappingNode>().Select(root => new KubernetesObject(
                Relative(file), Scalar(root, "kind") ?? "", Scalar(root, "metadata", "name") ?? "", root)))
            .ToList();

    /// <summary>The containers that run the jobworker image, in every workload under deploy/k8s, with their environment.</summary>
    private static IEnumerable<KubernetesContainer> KubernetesContainers()
    {
        var objects = KubernetesObjects();
        foreach (var workload in objects.Where(o => WorkloadKinds.Contains(o.Kind)))
        {
            var template = workload.Kind == "CronJob"
                ? Get(workload.Root, "spec", "jobTemplate", "spec", "template")
                : Get(workload.Root, "spec", "template");
            if (template is not YamlMappingNode templateNode || Get(templateNode, "spec") is not YamlMappingNode podSpec)
                continue;

            foreach (var container in Sequence(podSpec, "initContainers").Concat(Sequence(podSpec, "containers")).OfType<YamlMappingNode>())
            {
                if (!ImageName(Scalar(container, "image")).StartsWith("jobworker", StringComparison.Ordinal))
                    continue;
                var name = Scalar(container, "name") ?? "";
                yield return new KubernetesContainer(workload.File, workload.Kind, workload.Name, name, templateNode, podSpec, container,
                    EffectiveEnvironment(container, objects, $"{workload.File}: {workload.Kind} {workload.Name}, container {name}"));
            }
        }
    }

    /// <summary>envFrom (ConfigMaps and Secrets) overlaid with env; a value from a Secret or fieldRef is null.</summary>
    private static Dictionary<string, string?> EffectiveEnvironment(YamlMappingNode container, List<KubernetesObject> objects, string where)
    {
        var env = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var source in Sequence(container, "envFrom").OfType<YamlMappingNode>())
        {
            var prefix = Scalar(source, "prefix") ?? "";
            var (kind, reference) = Get(source, "configMapRef") is { } map ? ("ConfigMap", map) : ("Secret", Get(source, "secretRef"));
            var name = Scalar(reference, "name");
            var target = objects.FirstOrDefault(o => o.Kind == kind && o.Name == name);
            if (target is null)
            {
                if (Scalar(reference, "optional") != "true")
                    Assert.Fail($"{where}: envFrom names {kind} {name}, which no file under deploy/k8s defines");
                continue;
            }
            foreach (var key in Keys(target.Root, "data").Concat(Keys(target.Root, "stringData")))
                env[prefix + key] = kind == "ConfigMap" ? Scalar(target.Root, "data", key) : null;
        }
        foreach (var entry in Sequence(container, "env").OfType<YamlMappingNode>())
            env[Scalar(entry, "name") ?? ""] = Scalar(entry, "value");
        return env;
    }

    /// <summary>(file, what, secret name, key) for every secretKeyRef and KEDA secretTargetRef under deploy/k8s.</summary>
    private static IEnumerable<(string File, string Where, string Name, string Key)> SecretReferences()
    {
        foreach (var o in KubernetesObjects())
        {
            foreach (var node in Descendants(o.Root))
            {
                if (Get(node, "secretKeyRef") is YamlMappingNode keyRef)
                    yield return (o.File, $"{o.Kind} {o.Name} secretKeyRef", Scalar(keyRef, "name") ?? "", Scalar(keyRef, "key") ?? "");
            }
            if (o.Kind == "TriggerAuthentication")
            {
                foreach (var target in Sequence(o.Root, "spec", "secretTargetRef").OfType<YamlMappingNode>())
                    yield return (o.File, $"TriggerAuthentication {o.Name} secretTargetRef", Scalar(target, "name") ?? "", Scalar(target, "key") ?? "");
            }
        }
    }

    private static string ImageName(string? image)
    {
        if (image is null)
            return "";
        var withoutDigest = image.Split('@')[0];
        var lastSegment = withoutDigest[(withoutDigest.LastIndexOf('/') + 1)..];
        return lastSegment.Split(':')[0];
    }

    // ---- Dockerfile ----

    private sealed record DockerInstruction(string Keyword, string Arguments, int Line);

    private sealed record Dockerfile(List<DockerInstruction> All, List<DockerInstruction> FinalStage);

    private static Dockerfile ParseDockerfile(string path = "Dockerfile")
    {
        var instructions = new List<DockerInstruction>();
        var lines = File.ReadAllLines(Path.Combine(RepoRoot, path));
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#'))
                continue;
            var start = i;
            var text = line;
            while (text.EndsWith('\\') && i + 1 < lines.Length)
            {
                text = text[..^1];
                var next = lines[++i].Trim();
                if (!next.StartsWith('#'))
                    text += " " + next;
                else
                    text += "\\";
            }
            var space = text.IndexOfAny([' ', '\t']);
            instructions.Add(space < 0
                ? new DockerInstruction(text.ToUpperInvariant(), "", start + 1)
                : new DockerInstruction(text[..space].ToUpperInvariant(), text[(space + 1)..].Trim(), start + 1));
        }

        var lastFrom = instructions.FindLastIndex(i => i.Keyword == "FROM");
        Assert.That(lastFrom, Is.GreaterThanOrEqualTo(0), "the Dockerfile has no FROM");
        return new Dockerfile(instructions, instructions[lastFrom..]);
    }

    /// <summary>The pairs of one ENV instruction: <c>K=V K2="V 2"</c>, or the legacy <c>K V</c>.</summary>
    private static IEnumerable<KeyValuePair<string, string>> ParseEnv(string arguments)
    {
        var tokens = ShellWords(arguments);
        if (tokens.Count == 0)
            yield break;
        if (!tokens[0].Contains('=', StringComparison.Ordinal))
        {
            var firstSpace = arguments.IndexOfAny([' ', '\t']);
            yield return new(tokens[0], firstSpace < 0 ? "" : arguments[(firstSpace + 1)..].Trim());
            yield break;
        }
        foreach (var token in tokens)
        {
            var equals = token.IndexOf('=', StringComparison.Ordinal);
            yield return new(token[..equals], token[(equals + 1)..]);
        }
    }

    private static List<string> ShellWords(string text)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        char? quote = null;
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quote is null && char.IsWhiteSpace(c))
            {
                if (inWord)
                    words.Add(current.ToString());
                current.Clear();
                inWord = false;
                continue;
            }
            inWord = true;
            if (c == '\\' && i + 1 < text.Length && quote != '\'')
                current.Append(text[++i]);
            else if (quote is null && c is '"' or '\'')
                quote = c;
            else if (c == quote)
                quote = null;
            else
                current.Append(c);
        }
        if (inWord)
            words.Add(current.ToString());
        return words;
    }

    // ---- YAML and files ----

    private static string FindRepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "JobWorker.sln")))
                return directory.FullName;
        }
        throw new InvalidOperationException($"No JobWorker.sln above {AppContext.BaseDirectory}");
    }

    private static string Relative(string path) => Path.GetRelativePath(RepoRoot, path).Replace('\\', '/');

    private static List<string> YamlFiles(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".yml", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Every document of a YAML file (merge keys, <c>&lt;&lt;: *anchor</c>, resolved).</summary>
    private static List<YamlNode> LoadYaml(string path)
    {
        using var reader = new StringReader(File.ReadAllText(path));
        var stream = new YamlStream();
        stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Select(d => d.RootNode).ToList();
    }

    private static YamlNode? Get(YamlNode? node, params string[] path)
    {
        foreach (var key in path)
        {
            if (node is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out node))
                return null;
        }
        return node;
    }

    private static string? Scalar(YamlNode? node, params string[] path) => (Get(node, path) as YamlScalarNode)?.Value;

    private static IEnumerable<YamlNode> Sequence(YamlNode? node, params string[] path) =>
        (Get(node, path) as YamlSequenceNode)?.Children ?? [];

    private static IEnumerable<string> Keys(YamlNode? node, params string[] path) =>
        (Get(node, path) as YamlMappingNode)?.Children.Keys.OfType<YamlScalarNode>().Select(k => k.Value!) ?? [];

    private static Dictionary<string, string?> Pairs(YamlNode? node, params string[] path) =>
        (Get(node, path) as YamlMappingNode)?.Children.ToDictionary(kv => ((YamlScalarNode)kv.Key).Value!, kv => (kv.Value as YamlScalarNode)?.Value)
        ?? [];

    private static IEnumerable<YamlMappingNode> Descendants(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode map:
                yield return map;
                foreach (var child in map.Children.Values.SelectMany(Descendants))
                    yield return child;
                break;
            case YamlSequenceNode sequence:
                foreach (var child in sequence.Children.SelectMany(Descendants))
                    yield return child;
                break;
        }
    }

    // ---- patterns ----

    /// <summary><c>Password=value</c> or <c>Pwd=value</c>, as in an Npgsql connection string.</summary>
    [GeneratedRegex(@"(?i)\b(?:password|pwd)\s*=\s*(?:""(?<value>[^""]*)""|'(?<value>[^']*)'|(?<value>[^;""'\s]*))")]
    private static partial Regex PasswordKeyword();

    [GeneratedRegex(@"amqps?://(?<user>[^:/@\s""']+):(?<password>[^@/\s""']+)@")]
    private static partial Regex AmqpUserInfo();

    /// <summary><c>$NAME</c>, <c>${NAME}</c>, <c>${NAME:-default}</c>, <c>${NAME-default}</c>, or Kubernetes' <c>$(NAME)</c>.</summary>
    [GeneratedRegex(@"^\$(?:(?<name>[A-Za-z_][A-Za-z0-9_]*)|\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?::?-(?<default>[^}]*))?\}|\((?<name>[A-Za-z_][A-Za-z0-9_]*)\))")]
    private static partial Regex VariableReference();

    [GeneratedRegex(@"^Logging__LogLevel__[A-Za-z0-9_.]+$")]
    private static partial Regex LoggingLevel();

    [GeneratedRegex(@"\b(?:GET|HEAD)\s+(?<path>/[^\s'""\\]*)")]
    private static partial Regex HttpRequestPath();

    [GeneratedRegex(@"/dev/tcp/[^/\s]+/(?<port>\$?\$\{[^}]+\}|\$?\$\w+|\d+)")]
    private static partial Regex DevTcp();

    [GeneratedRegex(@"https?://(?:localhost|127\.0\.0\.1|\[::1\]|0\.0\.0\.0)(?::(?<port>\$?\$\{[^}]+\}|\$?\$\w+|\d+))?(?<path>/[^\s'""]*)?")]
    private static partial Regex LocalUrl();

    [GeneratedRegex(@"(?<amount>\d+(?:\.\d+)?)(?<unit>ms|us|µs|h|m|s)")]
    private static partial Regex DurationPart();
}
