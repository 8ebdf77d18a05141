using System.Globalization;
using System.Text.RegularExpressions;

namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>
/// Naming of the network namespaces the tests create: <c>s5t{pid}x{counter}-{role}</c>. The owning
/// process id in the name lets any later run delete the leftovers of a run that died.
/// </summary>
public static partial class NamespaceNames
{
    public const string Marker = "s5t";

    private static int s_counter;

    /// <summary>The prefix of every name this process creates: <c>s5t{pid}x</c>.</summary>
    public static string RunPrefix { get; } = string.Create(CultureInfo.InvariantCulture, $"{Marker}{Environment.ProcessId}x");

    /// <summary>A prefix no other topology of any live process uses: <c>s5t{pid}x{counter}-</c>.</summary>
    public static string NextPrefix() =>
        string.Create(CultureInfo.InvariantCulture, $"{RunPrefix}{Interlocked.Increment(ref s_counter)}-");

    /// <summary>The process id that owns <paramref name="name"/>, or null when the name is not one of ours.</summary>
    public static int? OwnerOf(string name)
    {
        var match = OwnedName().Match(name);
        return match.Success && int.TryParse(match.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;
    }

    /// <summary>True when <paramref name="name"/> is ours and its owning process no longer exists.</summary>
    public static bool IsLeftover(string name, Func<int, bool> processExists) =>
        OwnerOf(name) is { } pid && !processExists(pid);

    public static bool ProcessExists(int pid) => Directory.Exists($"/proc/{pid}");

    [GeneratedRegex(@"^s5t(\d+)x")]
    private static partial Regex OwnedName();
}
