using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Socks5UdpRelay.Server.Auth;
using Socks5UdpRelay.Server.Hosting;
using Socks5UdpRelay.Server.Metrics;

namespace Socks5UdpRelay.Server.Tests.Deployment;

/// <summary>
/// config/appsettings.json as a key tree, to check that every environment variable a deployment
/// sets names a key the server reads (<c>Auth__Users__0__Name</c> is <c>Auth:Users:0:Name</c>).
/// </summary>
internal sealed class AppSettings
{
    // Lists that ship empty (Auth:Users, Policy:AllowClients) say nothing about their items in the
    // JSON; their items are checked against the options class the section binds to.
    private static readonly Dictionary<string, Type> s_sections = new(StringComparer.OrdinalIgnoreCase)
    {
        [RelayOptions.SectionName] = typeof(RelayOptions),
        [PolicyOptions.SectionName] = typeof(PolicyOptions),
        [AuthOptions.SectionName] = typeof(AuthOptions),
        [LimitsOptions.SectionName] = typeof(LimitsOptions),
        [MetricsOptions.SectionName] = typeof(MetricsOptions),
    };

    private readonly JsonElement _root;

    private AppSettings(JsonElement root) => _root = root;

    public static AppSettings Load(string path)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return new AppSettings(document.RootElement.Clone());
    }

    /// <summary><c>Relay__Listen__0</c> → <c>Relay:Listen:0</c>, as the configuration's environment provider maps it.</summary>
    public static string KeyOf(string environmentVariable) => environmentVariable.Replace("__", ":", StringComparison.Ordinal);

    public string? Value(string key)
    {
        var node = _root;
        foreach (string part in key.Split(':'))
        {
            if (!TryChild(node, part, out node))
            {
                return null;
            }
        }

        return node.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? null : node.ToString();
    }

    /// <summary>True when the key is one the server reads: in the JSON, or an item of a list whose options class has it.</summary>
    public bool HasKey(string key)
    {
        string[] parts = key.Split(':');
        var node = _root;
        for (int i = 0; i < parts.Length; i++)
        {
            if (node.ValueKind == JsonValueKind.Array && int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return node.GetArrayLength() > 0
                    ? HasKey(node[0], parts[(i + 1)..])
                    : s_sections.TryGetValue(parts[0], out var type) && HasItemMember(type, parts[1..i], parts[(i + 1)..]);
            }

            if (!TryChild(node, parts[i], out node))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The grace period the server would use: <c>Relay:ShutdownGracePeriod</c> from the variables given, else this file.</summary>
    public TimeSpan ShutdownGracePeriod(IReadOnlyDictionary<string, string> environment) =>
        TimeSpan.Parse(
            environment.TryGetValue("Relay__ShutdownGracePeriod", out var value) ? value : Value("Relay:ShutdownGracePeriod") ?? "00:00:10",
            CultureInfo.InvariantCulture);

    private static bool HasKey(JsonElement node, string[] parts)
    {
        foreach (string part in parts)
        {
            if (!TryChild(node, part, out node))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Walks properties from the section's options type down to a list, then checks the rest against the list's item type.</summary>
    private static bool HasItemMember(Type section, string[] toList, string[] inItem)
    {
        Type type = section;
        foreach (string name in toList)
        {
            type = Property(type, name)?.PropertyType ?? typeof(void);
        }

        Type? item = type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[0] : null;
        if (item is null)
        {
            return false;
        }

        foreach (string name in inItem)
        {
            item = Property(item, name)?.PropertyType;
            if (item is null)
            {
                return false;
            }
        }

        return true;
    }

    private static PropertyInfo? Property(Type type, string name) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    // Configuration keys are case-insensitive.
    private static bool TryChild(JsonElement node, string name, out JsonElement child)
    {
        child = default;
        if (node.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in node.EnumerateObject())
            {
                if (property.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    child = property.Value;
                    return true;
                }
            }

            return false;
        }

        if (node.ValueKind == JsonValueKind.Array && int.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out int index) && index < node.GetArrayLength())
        {
            child = node[index];
            return true;
        }

        return false;
    }
}
