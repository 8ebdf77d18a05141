using System.Runtime.InteropServices;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// What the environment-dependent tests need, and why a test skips. Each probe runs once per
/// process. With <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c> (set by CI) nothing skips: the test runs and
/// fails loudly where the precondition is missing.
/// </summary>
public static class Requirements
{
    public const string RequireAllVariable = "SOCKS5UDPRELAY_REQUIRE_ALL";

    private static readonly Lazy<string?> s_networkNamespacesMissing = new(ProbeNetworkNamespaces);
    private static readonly Lazy<string?> s_danteMissing = new(ProbeDante);
    private static readonly Lazy<string?> s_rootMissing = new(() => RootMissingReason(
        OperatingSystem.IsLinux(), OperatingSystem.IsLinux() ? NativeMethods.geteuid() : uint.MaxValue, ExternalTools.Find("setpriv") is not null));

    /// <summary>True when CI asked for every test to run (no skipping).</summary>
    public static bool RequireAll => IsRequireAll(Environment.GetEnvironmentVariable(RequireAllVariable));

    /// <summary>Why network-namespace tests cannot run here (not root, a tool missing, <c>ip netns add</c> refused), or null.</summary>
    public static string? NetworkNamespacesMissing => s_networkNamespacesMissing.Value;

    /// <summary>Why the Dante tests cannot run here, or null.</summary>
    public static string? DanteMissing => s_danteMissing.Value;

    /// <summary>The Skip text for a [RootFact]/[RootTheory] in this process, or null to run.</summary>
    public static string? NetworkNamespacesSkipReason => SkipReason(NetworkNamespacesMissing, RequireAll);

    /// <summary>
    /// Why tests that only change user (the container image's uid, with setpriv) cannot run here, or
    /// null. They need root and setpriv, but no namespaces, nft or iptables.
    /// </summary>
    public static string? RootMissing => s_rootMissing.Value;

    /// <summary>The Skip text for a [RootUserFact] in this process, or null to run.</summary>
    public static string? RootSkipReason => SkipReason(RootMissing, RequireAll);

    /// <summary>The Skip text for a [RequiresDanteFact] in this process, or null to run.</summary>
    public static string? DanteSkipReason => SkipReason(DanteMissing, RequireAll);

    /// <summary>
    /// The decision, kept pure so it is unit-tested: skip with the reason when something is missing,
    /// unless every test is required to run.
    /// </summary>
    public static string? SkipReason(string? missing, bool requireAll) =>
        missing is null || requireAll
            ? null
            : $"{missing} (set {RequireAllVariable}=1 to run and fail instead of skipping)";

    public static bool IsRequireAll(string? value) => value?.Trim() == "1";

    /// <summary>Throws with the reason when network namespaces are unavailable: the loud failure under <c>SOCKS5UDPRELAY_REQUIRE_ALL=1</c>.</summary>
    public static void EnsureNetworkNamespaces()
    {
        if (NetworkNamespacesMissing is { } missing)
        {
            throw new InvalidOperationException($"Network-namespace tests cannot run: {missing}.");
        }
    }

    /// <summary>The pure part of the namespace probe: what is missing, given the facts, or null.</summary>
    public static string? NetworkNamespacesMissingReason(bool isLinux, uint effectiveUserId, IEnumerable<string> missingTools, Func<string?> tryAddNamespace)
    {
        if (!isLinux)
        {
            return "network namespaces need Linux";
        }

        if (effectiveUserId != 0)
        {
            return $"network namespaces need root (effective uid is {effectiveUserId})";
        }

        var missing = missingTools.ToList();
        if (missing.Count > 0)
        {
            return $"missing tools: {string.Join(", ", missing)} (install iproute2, iptables, nftables)";
        }

        return tryAddNamespace() is { } failure ? $"`ip netns add` failed: {failure}" : null;
    }

    /// <summary>The pure part of the root probe: what is missing, given the facts, or null.</summary>
    public static string? RootMissingReason(bool isLinux, uint effectiveUserId, bool hasSetpriv) =>
        !isLinux ? "running as another user needs Linux"
        : effectiveUserId != 0 ? $"running as the image's user needs root (effective uid is {effectiveUserId})"
        : !hasSetpriv ? "setpriv is missing (install util-linux)"
        : null;

    private static string? ProbeNetworkNamespaces()
    {
        var isLinux = OperatingSystem.IsLinux();
        return NetworkNamespacesMissingReason(
            isLinux,
            isLinux ? NativeMethods.geteuid() : uint.MaxValue,
            new[] { "ip", "nft", "iptables", "ip6tables" }.Where(tool => ExternalTools.Find(tool) is null),
            TryAddProbeNamespace);
    }

    private static string? TryAddProbeNamespace()
    {
        // Named like a topology's namespaces so that a crash between add and delete leaves
        // something the next run's leftover sweep recognises and removes.
        var name = $"{NamespaceNames.RunPrefix}probe";
        try
        {
            var added = CommandRunner.Run(["ip", "netns", "add", name]);
            if (!added.Succeeded)
            {
                return added.StandardError.Trim();
            }

            CommandRunner.Run(["ip", "netns", "delete", name]);
            return null;
        }
        catch (Exception exception) when (exception is InvalidOperationException or System.ComponentModel.Win32Exception or TimeoutException)
        {
            return exception.Message;
        }
    }

    /// <summary>The pure part of a peer-program probe: which of <paramref name="programs"/> (full paths) are missing, or null.</summary>
    public static string? ProgramsMissing(IEnumerable<string> programs, Func<string, bool> exists)
    {
        var missing = programs.Where(p => !exists(p)).ToList();
        return missing.Count == 0
            ? null
            : $"{string.Join(", ", missing)} not installed (apt-get install dante-server hpsockd microsocks v2ray shadowsocks-libev stun-server)";
    }

    private static string? ProbeDante() =>
        File.Exists(ExternalTools.DanteServerPath) ? null : $"{ExternalTools.DanteServerPath} is not installed (apt-get install dante-server)";

    private static class NativeMethods
    {
        [DllImport("libc", ExactSpelling = true)]
        internal static extern uint geteuid();
    }
}
