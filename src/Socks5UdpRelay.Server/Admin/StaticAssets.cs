namespace Socks5UdpRelay.Server.Admin;

/// <summary>
/// The flow view's page (<c>Admin/Page/</c>), embedded in the server's assembly: no files to
/// deploy beside the binary, no CDN, nothing built at install time.
/// </summary>
internal static class StaticAssets
{
    private static readonly Dictionary<string, (string Resource, string ContentType)> s_routes = new(StringComparer.Ordinal)
    {
        ["/"] = ("admin/index.html", "text/html; charset=utf-8"),
        ["/static/flows.css"] = ("admin/flows.css", "text/css; charset=utf-8"),
        ["/static/flows.js"] = ("admin/flows.js", "text/javascript; charset=utf-8"),
    };

    private static readonly Lazy<Dictionary<string, (byte[] Content, string ContentType)>> s_assets = new(Load);

    public static bool TryGet(string path, out byte[] content, out string contentType)
    {
        if (s_assets.Value.TryGetValue(path, out var asset))
        {
            (content, contentType) = asset;
            return true;
        }

        (content, contentType) = ([], "");
        return false;
    }

    private static Dictionary<string, (byte[], string)> Load()
    {
        var assembly = typeof(StaticAssets).Assembly;
        var assets = new Dictionary<string, (byte[], string)>(StringComparer.Ordinal);
        foreach (var (path, (resource, type)) in s_routes)
        {
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"the flow view's {resource} is not embedded in the server (see the .csproj)");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            assets[path] = (copy.ToArray(), type);
        }

        return assets;
    }
}
