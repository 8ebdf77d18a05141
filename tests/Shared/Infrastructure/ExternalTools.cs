namespace Socks5UdpRelay.Tests.Shared.Infrastructure;

/// <summary>Finds system tools by name even when PATH lacks the sbin directories (as it does for many non-root users).</summary>
public static class ExternalTools
{
    private static readonly string[] s_extraDirectories = ["/usr/local/sbin", "/usr/sbin", "/sbin", "/usr/local/bin", "/usr/bin", "/bin"];

    public const string DanteServerPath = "/usr/sbin/danted";

    /// <summary>The full path of <paramref name="name"/>, or null when it is not installed.</summary>
    public static string? Find(string name)
    {
        if (name.Contains('/'))
        {
            return File.Exists(name) ? name : null;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(s_extraDirectories))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>The full path of <paramref name="name"/> when found, else the name itself (so the failure names it).</summary>
    public static string Resolve(string name) => Find(name) ?? name;
}
