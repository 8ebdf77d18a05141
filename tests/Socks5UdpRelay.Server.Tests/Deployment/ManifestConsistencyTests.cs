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

    [Fact]
    public void Kubernetes_EnvironmentComesFromTheConfigMapAndSecret_AndMatchesTheImage()
    {
        var container = Container();
        var configMap = Yaml.Load(RepositoryFiles.Kubernetes("configmap.yaml"));
        var secret = Yaml.Load(RepositoryFiles.Kubernetes("secret.yaml"));
        var envFrom = container["envFrom"].Items;
        Assert.Contains(envFrom, e => e.Get("configMapRef")?["name"].Text == configMap["metadata"]["name"].Text);
        Assert.Contains(envFrom, e => e.Get("secretRef")?["name"].Text == secret["metadata"]["name"].Text);

        var environment = KubernetesEnvironment();
        AssertSameAsDockerfile(environment, "kubernetes");
        AssertKeysExist(environment.Keys, "kubernetes");
        Assert.Contains("Auth__Users__0__Name", secret["stringData"].Entries.Keys);
        Assert.Contains("Auth__Users__0__PasswordHash", secret["stringData"].Entries.Keys);
        Assert.DoesNotContain(configMap["data"].Entries.Keys, k => k.StartsWith("Auth__", StringComparison.Ordinal)); // secrets stay in the Secret

        // Each replica advertises its own reachable address: the pod's, or the node's with hostNetwork.
        var advertised = container["env"].Items.Single(e => e["name"].Text == "Relay__AdvertisedAddress__0");
        string field = advertised["valueFrom"]["fieldRef"]["fieldPath"].Text;
        bool hostNetwork = PodSpec().Get("hostNetwork")?.Text == "true";
        Assert.Equal(hostNetwork ? "status.hostIP" : "status.podIP", field);
    }

    [Fact]
    public void Kubernetes_ProbesAreTheImagesHealthCheckOrHealthz_AndGraceExceedsTheServers()
    {
        var container = Container();
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
                Assert.Equal("true", KubernetesEnvironment()["Metrics__Enabled"]);
            }
        }

        Assert.Equal(_dockerfile.WorkingDirectory, container.Get("workingDir")?.Text ?? _dockerfile.WorkingDirectory);
        var grace = _settings.ShutdownGracePeriod(Merge(_dockerfile.Environment, KubernetesEnvironment()));
        var termination = TimeSpan.FromSeconds(PodSpec()["terminationGracePeriodSeconds"].Int);
        Assert.True(termination > grace, $"terminationGracePeriodSeconds {termination} must exceed Relay:ShutdownGracePeriod {grace}");
    }

    [Fact]
    public void Kubernetes_RunsNonRootReadOnlyWithoutCapabilities()
    {
        var pod = PodSpec()["securityContext"];
        var container = Container()["securityContext"];
        Assert.Equal("true", pod["runAsNonRoot"].Text);
        Assert.Equal(_dockerfile.UserId, pod["runAsUser"].Int);
        Assert.Equal("true", container["readOnlyRootFilesystem"].Text);
        Assert.Equal("false", container["allowPrivilegeEscalation"].Text);
        Assert.Equal(["ALL"], container["capabilities"]["drop"].Items.Select(i => i.Text));
    }

    [Fact]
    public void Kubernetes_ServicesNameEveryPort_MetricsInAServiceOfItsOwn()
    {
        var services = Yaml.LoadAll(RepositoryFiles.Kubernetes("service.yaml"));
        var podLabels = PodSpecTemplate()["metadata"]["labels"].Entries.ToDictionary(e => e.Key, e => e.Value.Text);
        Assert.All(services, s => Assert.All(s["spec"]["selector"].Entries, e => Assert.Equal(podLabels[e.Key], e.Value.Text)));
        var ports = services.SelectMany(s => s["spec"]["ports"].Items.Select(p => (Service: s["metadata"]["name"].Text, Port: p["port"].Int, Target: p["targetPort"].Int, Protocol: p["protocol"].Text))).ToList();

        Assert.Contains(ports, p => p.Port == ListenPort && p.Target == ListenPort && p.Protocol == "TCP");
        var (first, last) = UdpRange;
        for (int port = first; port <= last; port++)
        {
            Assert.Contains(ports, p => p.Port == port && p.Target == port && p.Protocol == "UDP");
        }

        Assert.Equal(last - first + 1, ports.Count(p => p.Protocol == "UDP"));
        var metrics = Assert.Single(ports, p => p.Target == MetricsPort);
        Assert.Equal("TCP", metrics.Protocol);
        Assert.DoesNotContain(ports, p => p.Service == metrics.Service && p.Target != MetricsPort);

        var containerPorts = Container()["ports"].Items.Select(p => (p["containerPort"].Int, p["protocol"].Text)).ToList();
        Assert.Contains((ListenPort, "TCP"), containerPorts);
        Assert.Contains((MetricsPort, "TCP"), containerPorts);
    }

    [Fact]
    public void Kubernetes_NetworkPolicyAdmitsTheRange_AndMetricsOnlyFromSomewhere()
    {
        var rules = Yaml.Load(RepositoryFiles.Kubernetes("networkpolicy.yaml"))["spec"]["ingress"].Items;
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

    private static YamlNode PodSpecTemplate() => Yaml.Load(RepositoryFiles.Kubernetes("deployment.yaml"))["spec"]["template"];

    private static YamlNode PodSpec() => PodSpecTemplate()["spec"];

    private static YamlNode Container() => Assert.Single(PodSpec()["containers"].Items);

    /// <summary>The container's variables: the ConfigMap's and the Secret's (envFrom), then env (valueFrom as its field path).</summary>
    private static Dictionary<string, string> KubernetesEnvironment()
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in Yaml.Load(RepositoryFiles.Kubernetes("configmap.yaml"))["data"].Entries)
        {
            environment[key] = value.Text;
        }

        foreach (var (key, value) in Yaml.Load(RepositoryFiles.Kubernetes("secret.yaml"))["stringData"].Entries)
        {
            environment[key] = value.Text;
        }

        foreach (var entry in Container()["env"].Items)
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

    [GeneratedRegex(@"(\d+)(h|ms|m|s)")]
    private static partial Regex DurationPart();
}
