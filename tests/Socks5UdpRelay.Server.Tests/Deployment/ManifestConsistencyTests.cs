using System.Globalization;
using System.Text.RegularExpressions;
using Xunit;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// config/docker-compose.yml and config/kubernetes/ against the Dockerfile and
/// config/appsettings.json: the same ports (every UDP port of the range), the same values where
/// they set the image's variables, only keys the server reads, the same health check, and grace
/// periods longer than the server's own.
/// </summary>
public sealed partial class ManifestConsistencyTests
{
    private readonly Dockerfile _dockerfile = Dockerfile.Load(RepositoryFiles.Dockerfile);
    private readonly AppSettings _settings = AppSettings.Load(RepositoryFiles.AppSettings);

    private (int First, int Last) UdpRange
    {
        get
        {
            var parts = _dockerfile.Environment["Relay__UdpPortRange"].Split('-');
            return (int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
        }
    }

    private int ListenPort => PortOf(_dockerfile.Environment["Relay__Listen__0"]);

    private int MetricsPort => PortOf(_dockerfile.Environment["Metrics__Listen"]);

    [Fact]
    public void Dockerfile_ExposesItsOwnListenerRangeAndMetricsPorts()
    {
        var (first, last) = UdpRange;
        Assert.Contains($"{ListenPort}/tcp", _dockerfile.Expose);
        Assert.Contains($"{first}-{last}/udp", _dockerfile.Expose);
        Assert.Contains($"{MetricsPort}/tcp", _dockerfile.Expose);
        AssertKeysExist(_dockerfile.Environment.Keys, "Dockerfile ENV");
    }

    [Fact]
    public void Compose_PublishesTheSamePorts_MetricsOnlyOnTheHostsLoopback()
    {
        var service = ComposeService();
        var published = service["ports"].Items.SelectMany(p => ComposePorts(p.Text)).ToList();

        Assert.Contains(("", ListenPort, ListenPort, "tcp"), published);
        var (first, last) = UdpRange;
        for (int port = first; port <= last; port++)
        {
            Assert.Contains(published, p => p.Protocol == "udp" && p.Container == port && p.Host == port); // 1:1: BND.PORT is what the client sends to
        }

        Assert.Equal(last - first + 1, published.Count(p => p.Protocol == "udp"));
        Assert.Equal([("127.0.0.1", MetricsPort, MetricsPort, "tcp")], published.Where(p => p.Container == MetricsPort));
    }

    [Fact]
    public void Compose_SetsTheImagesVariablesAlike_AndOnlyKeysTheServerReads()
    {
        var environment = ComposeEnvironment();

        AssertSameAsDockerfile(environment, "docker-compose.yml");
        AssertKeysExist(environment.Keys, "docker-compose.yml");
        Assert.True(environment.ContainsKey("Relay__AdvertisedAddress__0"), "compose must say which address clients reach (BND.ADDR)");
        Assert.True(
            environment.Keys.Any(k => k.StartsWith("Auth__Users__", StringComparison.Ordinal)) || environment.Keys.Any(k => k.StartsWith("Policy__AllowClients__", StringComparison.Ordinal)),
            "the image refuses to start without users or an allow-list; the example must give one");
    }

    [Fact]
    public void Compose_HealthCheckIsTheDockerfiles_AndStopWaitsLongerThanTheServersGrace()
    {
        var service = ComposeService();

        Assert.Equal(["CMD", .. _dockerfile.HealthCheckCommand], service["healthcheck"]["test"].Items.Select(i => i.Text));
        Assert.Equal(_dockerfile.StopSignal, service.Get("stop_signal")?.Text ?? _dockerfile.StopSignal);
        var grace = _settings.ShutdownGracePeriod(Merge(_dockerfile.Environment, ComposeEnvironment()));
        var stop = ComposeDuration(service["stop_grace_period"].Text);
        Assert.True(stop > grace, $"stop_grace_period {stop} must exceed Relay:ShutdownGracePeriod {grace}, or Docker kills the server mid-shutdown");
    }

    /// <summary>The two layouts (README, "Several replicas") and the workload each ships.</summary>
    public static TheoryData<string> Layouts => new() { NodeAddress, PodAddress };

    private const string NodeAddress = "node-address";
    private const string PodAddress = "pod-address";

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Kubernetes_EnvironmentComesFromTheConfigMapAndSecret_AndMatchesTheImage(string layout)
    {
        var container = Container(layout);
        var configMap = Yaml.Load(RepositoryFiles.Kubernetes("common/configmap.yaml"));
        var secret = Yaml.Load(RepositoryFiles.Kubernetes("common/secret.yaml"));
        var envFrom = container["envFrom"].Items;
        Assert.Contains(envFrom, e => e.Get("configMapRef")?["name"].Text == configMap["metadata"]["name"].Text);
        Assert.Contains(envFrom, e => e.Get("secretRef")?["name"].Text == secret["metadata"]["name"].Text);

        var environment = KubernetesEnvironment(layout);
        AssertSameAsDockerfile(environment, layout);
        AssertKeysExist(environment.Keys, layout);
        Assert.Contains("Auth__Users__0__Name", secret["stringData"].Entries.Keys);
        Assert.Contains("Auth__Users__0__PasswordHash", secret["stringData"].Entries.Keys);
        Assert.DoesNotContain(configMap["data"].Entries.Keys, k => k.StartsWith("Auth__", StringComparison.Ordinal)); // secrets stay in the Secret

        // Each replica advertises the address its clients send UDP to: the node's (hostPorts) or the pod's own.
        var advertised = container["env"].Items.Single(e => e["name"].Text == "Relay__AdvertisedAddress__0");
        Assert.Equal(layout == NodeAddress ? "status.hostIP" : "status.podIP", advertised["valueFrom"]["fieldRef"]["fieldPath"].Text);
    }

    [Fact]
    public void Kubernetes_ConfigMapNeitherSetsNorSuggestsWhatAWorkloadsEnvOverrides()
    {
        // env wins over envFrom: advice in the ConfigMap to set such a key would be silently ignored.
        string text = File.ReadAllText(RepositoryFiles.Kubernetes("common/configmap.yaml"));
        var mentioned = ConfigMapKey().Matches(text).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("Relay__Listen__0", mentioned); // the pattern finds keys, set or commented out
        foreach (string layout in new[] { NodeAddress, PodAddress })
        {
            foreach (var entry in Container(layout)["env"].Items)
            {
                Assert.DoesNotContain(entry["name"].Text, mentioned);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Kubernetes_ProbesAreTheImagesHealthCheckOrHealthz_AndGraceCoversTheDrain(string layout)
    {
        var container = Container(layout);
        foreach (string probe in new[] { "livenessProbe", "readinessProbe" })
        {
            var node = container[probe];
            if (node.Get("exec") is { } exec)
            {
                Assert.Equal(_dockerfile.HealthCheckCommand, exec["command"].Items.Select(i => i.Text));
            }
            else
            {
                Assert.Equal("/healthz", node["httpGet"]["path"].Text);
                Assert.Equal(MetricsPort, node["httpGet"]["port"].Int);
                Assert.Equal("true", KubernetesEnvironment(layout)["Metrics__Enabled"]);
            }
        }

        Assert.Equal(_dockerfile.WorkingDirectory, container.Get("workingDir")?.Text ?? _dockerfile.WorkingDirectory);
        var grace = _settings.ShutdownGracePeriod(Merge(_dockerfile.Environment, KubernetesEnvironment(layout)));
        var drain = TimeSpan.FromSeconds(container["lifecycle"]["preStop"]["sleep"]["seconds"].Int);
        var termination = TimeSpan.FromSeconds(PodSpec(layout)["terminationGracePeriodSeconds"].Int);
        Assert.True(drain > TimeSpan.Zero, "a preStop pause lets load balancers drop the pod before SIGTERM");
        Assert.True(termination > drain + grace, $"terminationGracePeriodSeconds {termination} must exceed the preStop sleep {drain} plus Relay:ShutdownGracePeriod {grace}");
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Kubernetes_RunsNonRootReadOnlyWithoutCapabilities_WithResourceRequests(string layout)
    {
        var pod = PodSpec(layout)["securityContext"];
        var container = Container(layout);
        Assert.Equal("true", pod["runAsNonRoot"].Text);
        Assert.Equal(_dockerfile.UserId, pod["runAsUser"].Int);
        Assert.Equal("true", container["securityContext"]["readOnlyRootFilesystem"].Text);
        Assert.Equal("false", container["securityContext"]["allowPrivilegeEscalation"].Text);
        Assert.Equal(["ALL"], container["securityContext"]["capabilities"]["drop"].Items.Select(i => i.Text));
        Assert.NotNull(container["resources"]["requests"].Get("cpu")); // the autoscaler's utilisation is relative to it
        Assert.NotNull(container["resources"]["limits"].Get("memory"));
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Kubernetes_ServiceCarriesTcpOnly_UdpNeverGoesThroughALoadBalancer(string layout)
    {
        var service = Yaml.Load(RepositoryFiles.Kubernetes($"{layout}/service.yaml"));
        var metrics = Yaml.Load(RepositoryFiles.Kubernetes("common/service-metrics.yaml"));
        var podLabels = PodTemplate(layout)["metadata"]["labels"].Entries.ToDictionary(e => e.Key, e => e.Value.Text);
        foreach (var s in new[] { service, metrics })
        {
            Assert.All(s["spec"]["selector"].Entries, e => Assert.Equal(podLabels[e.Key], e.Value.Text));
        }

        var socks = Assert.Single(service["spec"]["ports"].Items);
        Assert.Equal(("TCP", ListenPort, ListenPort), (socks["protocol"].Text, socks["port"].Int, socks["targetPort"].Int));
        var metricsPort = Assert.Single(metrics["spec"]["ports"].Items);
        Assert.Equal(("TCP", MetricsPort), (metricsPort["protocol"].Text, metricsPort["targetPort"].Int));
        if (layout == NodeAddress)
        {
            // The client's own address on TCP as on UDP; with Cluster the datagrams are refused as a source mismatch.
            Assert.Equal("LoadBalancer", service["spec"]["type"].Text);
            Assert.Equal("Local", service["spec"]["externalTrafficPolicy"].Text);
        }

        var containerPorts = Container(layout)["ports"].Items.Select(p => (p["containerPort"].Int, p["protocol"].Text)).ToList();
        Assert.Contains((ListenPort, "TCP"), containerPorts);
        Assert.Contains((MetricsPort, "TCP"), containerPorts);
    }

    [Fact]
    public void Kubernetes_NodeAddressLayout_OnePodPerNode_EachUdpPortOfTheRangeAHostPort()
    {
        var daemonSet = Workload(NodeAddress);
        Assert.Equal("DaemonSet", daemonSet["kind"].Text);
        var udp = Container(NodeAddress)["ports"].Items.Where(p => p["protocol"].Text == "UDP").ToList();
        var (first, last) = UdpRange;
        Assert.Equal(last - first + 1, udp.Count);
        for (int port = first; port <= last; port++)
        {
            Assert.Contains(udp, p => p["containerPort"].Int == port && p["hostPort"].Int == port); // 1:1: BND.PORT is what the client sends to
        }

        Assert.DoesNotContain(Container(NodeAddress)["ports"].Items, p => p["protocol"].Text == "TCP" && p.Get("hostPort") is not null);
    }

    [Fact]
    public void Kubernetes_PodAddressLayout_SpreadsAndAutoscales()
    {
        var deployment = Workload(PodAddress);
        Assert.Equal("Deployment", deployment["kind"].Text);
        var spread = PodSpec(PodAddress)["topologySpreadConstraints"].Items;
        Assert.Contains(spread, c => c["topologyKey"].Text == "kubernetes.io/hostname");
        var hpa = Yaml.Load(RepositoryFiles.Kubernetes($"{PodAddress}/horizontalpodautoscaler.yaml"));
        Assert.Equal(("Deployment", deployment["metadata"]["name"].Text), (hpa["spec"]["scaleTargetRef"]["kind"].Text, hpa["spec"]["scaleTargetRef"]["name"].Text));
        Assert.True(hpa["spec"]["minReplicas"].Int >= 2, "one replica is no scale-out");
        Assert.True(deployment["spec"]["replicas"].Int >= hpa["spec"]["minReplicas"].Int);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Kubernetes_DisruptionBudgetCoversTheWorkloadsPods(string layout)
    {
        var budget = Yaml.Load(RepositoryFiles.Kubernetes("common/poddisruptionbudget.yaml"));
        var podLabels = PodTemplate(layout)["metadata"]["labels"].Entries.ToDictionary(e => e.Key, e => e.Value.Text);
        Assert.All(budget["spec"]["selector"]["matchLabels"].Entries, e => Assert.Equal(podLabels[e.Key], e.Value.Text));
        Assert.Equal(1, budget["spec"]["maxUnavailable"].Int);
    }

    [Theory]
    [MemberData(nameof(Layouts))]
    public void Kubernetes_KustomizationListsEveryManifest_AndNamesTheImagesRegistryAndTag(string layout)
    {
        var kustomization = Yaml.Load(RepositoryFiles.Kubernetes($"{layout}/kustomization.yaml"));
        var resources = kustomization["resources"].Items.Select(i => i.Text).ToList();
        Assert.Contains("../common", resources);
        foreach (string folder in new[] { layout, "common" })
        {
            var listed = folder == layout ? resources : Yaml.Load(RepositoryFiles.Kubernetes("common/kustomization.yaml"))["resources"].Items.Select(i => i.Text).ToList();
            var files = Directory.GetFiles(RepositoryFiles.Kubernetes(folder), "*.yaml").Select(Path.GetFileName).Where(f => f != "kustomization.yaml");
            Assert.All(files, f => Assert.Contains(f!, listed));
        }

        var image = Assert.Single(kustomization["images"].Items);
        Assert.Equal(Container(layout)["image"].Text, image["name"].Text);
        string registry = image["newName"].Text.Split('/')[0];
        Assert.True(registry.Contains('.', StringComparison.Ordinal) || registry.Contains(':', StringComparison.Ordinal), $"'{image["newName"].Text}' names no registry: Docker Hub would be asked for it");
        Assert.NotEqual("latest", image["newTag"].Text);
    }

    [Fact]
    public void Kubernetes_NetworkPolicyAdmitsTheRange_AndMetricsOnlyFromSomewhere()
    {
        var rules = Yaml.Load(RepositoryFiles.Kubernetes("common/networkpolicy.yaml"))["spec"]["ingress"].Items;
        var (first, last) = UdpRange;
        Assert.Contains(rules.SelectMany(r => r["ports"].Items), p => p["protocol"].Text == "UDP" && p["port"].Int == first && p["endPort"].Int == last);
        var metricsRule = Assert.Single(rules, r => r["ports"].Items.Any(p => p["port"].Int == MetricsPort));
        Assert.NotNull(metricsRule.Get("from"));
    }

    private static int PortOf(string endpoint) => int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Merge(IReadOnlyDictionary<string, string> image, IReadOnlyDictionary<string, string> deployment)
    {
        var merged = new Dictionary<string, string>(image);
        foreach (var (key, value) in deployment)
        {
            merged[key] = value;
        }

        return merged;
    }

    private static YamlNode ComposeService() => Assert.Single(Yaml.Load(RepositoryFiles.ComposeFile)["services"].Entries).Value;

    private static Dictionary<string, string> ComposeEnvironment()
    {
        var node = ComposeService()["environment"];
        return node is YamlSequence
            ? node.Items.Select(i => i.Text.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty)
            : node.Entries.ToDictionary(e => e.Key, e => e.Value.Text);
    }

    /// <summary>Short syntax: [IP:]HOST:CONTAINER[/PROTOCOL], ports or equal-length ranges.</summary>
    private static IEnumerable<(string Ip, int Host, int Container, string Protocol)> ComposePorts(string text)
    {
        var slash = text.Split('/');
        string protocol = slash.Length > 1 ? slash[1] : "tcp";
        var parts = slash[0].Split(':');
        Assert.InRange(parts.Length, 2, 3); // a bare container port would publish on a random host port
        string ip = parts.Length == 3 ? parts[0] : string.Empty;
        var (hostFirst, hostLast) = Range(parts[^2]);
        var (containerFirst, containerLast) = Range(parts[^1]);
        Assert.Equal(hostLast - hostFirst, containerLast - containerFirst);
        for (int i = 0; i <= containerLast - containerFirst; i++)
        {
            yield return (ip, hostFirst + i, containerFirst + i, protocol);
        }

        static (int, int) Range(string text)
        {
            var ends = text.Split('-');
            return (int.Parse(ends[0], CultureInfo.InvariantCulture), int.Parse(ends[^1], CultureInfo.InvariantCulture));
        }
    }

    private static TimeSpan ComposeDuration(string text)
    {
        var parts = DurationPart().Matches(text);
        Assert.Equal(text, string.Concat(parts.Select(m => m.Value)));
        return parts.Aggregate(TimeSpan.Zero, (sum, m) => sum + m.Groups[2].Value switch
        {
            "h" => TimeSpan.FromHours(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)),
            "m" => TimeSpan.FromMinutes(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)),
            "s" => TimeSpan.FromSeconds(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)),
            _ => TimeSpan.FromMilliseconds(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)),
        });
    }

    private static YamlNode Workload(string layout)
        => Yaml.Load(RepositoryFiles.Kubernetes(layout == NodeAddress ? $"{layout}/daemonset.yaml" : $"{layout}/deployment.yaml"));

    private static YamlNode PodTemplate(string layout) => Workload(layout)["spec"]["template"];

    private static YamlNode PodSpec(string layout) => PodTemplate(layout)["spec"];

    private static YamlNode Container(string layout) => Assert.Single(PodSpec(layout)["containers"].Items);

    /// <summary>The container's variables: the ConfigMap's and the Secret's (envFrom), then env (valueFrom as its field path).</summary>
    private static Dictionary<string, string> KubernetesEnvironment(string layout)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Yaml.Load(RepositoryFiles.Kubernetes("common/configmap.yaml"))["data"].Entries)
        {
            environment[key] = value.Text;
        }

        foreach (var (key, value) in Yaml.Load(RepositoryFiles.Kubernetes("common/secret.yaml"))["stringData"].Entries)
        {
            environment[key] = value.Text;
        }

        foreach (var entry in Container(layout)["env"].Items)
        {
            environment[entry["name"].Text] = entry.Get("value")?.Text ?? $"({entry["valueFrom"]["fieldRef"]["fieldPath"].Text})";
        }

        return environment;
    }

    private void AssertSameAsDockerfile(IReadOnlyDictionary<string, string> environment, string where)
    {
        foreach (var (key, value) in _dockerfile.Environment)
        {
            if (environment.TryGetValue(key, out var other))
            {
                Assert.True(value == other, $"{where} sets {key}={other}, the Dockerfile {value}: published ports and probes follow the Dockerfile");
            }
        }
    }

    private void AssertKeysExist(IEnumerable<string> variables, string where)
    {
        var unknown = variables.Where(v => !_settings.HasKey(AppSettings.KeyOf(v))).ToList();
        Assert.True(unknown.Count == 0, $"{where} sets variables the server does not read (no such key in config/appsettings.json): {string.Join(", ", unknown)}");
    }

    /// <summary>A key in the ConfigMap, set or commented out: <c>Relay__Listen__0: "…"</c>, <c># Policy__AllowClients__0: "…"</c>.</summary>
    [GeneratedRegex(@"^\s*#?\s*([A-Za-z]+(?:__[A-Za-z0-9]+)+):", RegexOptions.Multiline)]
    private static partial Regex ConfigMapKey();

    [GeneratedRegex(@"(\d+)(h|ms|m|s)")]
    private static partial Regex DurationPart();
}
