using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.Json;
using Serilog.Events;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// Checks the configuration against what the server reads, before anything is bound: every key
/// under the server's sections must be a setting (else "did you mean …?"), every value must
/// convert to its setting's type (else what would be accepted), lists must be written as lists,
/// <c>LogFormat</c> and the Serilog levels must be ones that exist. The binder alone stops at the
/// first value it cannot convert and ignores a misspelt key, so a typo started a server without
/// the setting the operator meant. Every problem of every section is collected at once.
/// </summary>
internal static class StrictConfiguration
{
    public const string LogFormatKey = "LogFormat";
    public const string SerilogSection = "Serilog";

    /// <summary>The server's own sections and the options type each binds to.</summary>
    public static readonly IReadOnlyList<(string Name, Type Type)> Sections =
    [
        (RelayOptions.SectionName, typeof(RelayOptions)),
        (PolicyOptions.SectionName, typeof(PolicyOptions)),
        (Auth.AuthOptions.SectionName, typeof(Auth.AuthOptions)),
        (LimitsOptions.SectionName, typeof(LimitsOptions)),
        (Metrics.MetricsOptions.SectionName, typeof(Metrics.MetricsOptions)),
        (Admin.AdminOptions.SectionName, typeof(Admin.AdminOptions)),
    ];

    public static readonly string[] LogFormats = ["text", "json"];

    private static readonly string[] SerilogKeys =
        ["Using", "MinimumLevel", "WriteTo", "Enrich", "Properties", "Filter", "Destructure", "AuditTo", "LevelSwitches", "FilterSwitches"];

    private static readonly string[] MinimumLevelKeys = ["Default", "Override", "ControlledBy"];

    private static readonly string[] Levels = Enum.GetNames<LogEventLevel>();

    /// <summary>Every top-level key the server reads.</summary>
    public static IEnumerable<string> TopLevelKeys => Sections.Select(s => s.Name).Append(LogFormatKey).Append(SerilogSection);

    /// <summary>The problems found, each naming its key; <paramref name="unusable"/> gets the paths whose values must not be bound.</summary>
    public static List<string> Check(IConfiguration configuration, ISet<string> unusable)
    {
        var errors = new List<string>();
        CheckTopLevelKeys(configuration, errors);
        foreach (var (name, type) in Sections)
        {
            var section = configuration.GetSection(name);
            if (!string.IsNullOrEmpty(section.Value))
            {
                errors.Add($"{name} = '{section.Value}': {name} is a section; give its keys, e.g. {name}:{FirstSetting(type)}=…");
                continue;
            }

            CheckObject(section, type, Activator.CreateInstance(type)!, errors, unusable);
        }

        string? format = configuration[LogFormatKey];
        if (!string.IsNullOrEmpty(format) && !LogFormats.Contains(format, StringComparer.OrdinalIgnoreCase))
        {
            errors.Add($"{LogFormatKey} = '{format}': use text or json{ClosestName.Suggest(format, LogFormats)}.");
        }

        errors.AddRange(SerilogErrors(configuration));
        return errors.Distinct(StringComparer.Ordinal).ToList(); // the host adds the command line twice
    }

    /// <summary>
    /// Unknown keys directly under <c>Serilog</c> and <c>Serilog:MinimumLevel</c>, and levels that
    /// do not exist: Serilog.Settings.Configuration ignores the former and throws (a stack trace,
    /// exit 134) on the latter, so they are checked before the section is handed to it.
    /// </summary>
    public static List<string> SerilogErrors(IConfiguration configuration)
    {
        var errors = new List<string>();
        var serilog = configuration.GetSection(SerilogSection);
        foreach (var child in serilog.GetChildren())
        {
            if (!SerilogKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{child.Path} is not a Serilog setting{ClosestName.Suggest(child.Key, SerilogKeys)}; Serilog reads {string.Join(", ", SerilogKeys)}.");
            }
        }

        var minimum = serilog.GetSection("MinimumLevel");
        CheckLevel(minimum, errors);
        foreach (var child in minimum.GetChildren())
        {
            if (!MinimumLevelKeys.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add($"{child.Path} is not a setting of Serilog:MinimumLevel{ClosestName.Suggest(child.Key, MinimumLevelKeys)}; use Default, Override:SOURCE or ControlledBy.");
            }
            else if (child.Key.Equals("Default", StringComparison.OrdinalIgnoreCase))
            {
                CheckLevel(child, errors);
            }
            else if (child.Key.Equals("Override", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var source in child.GetChildren())
                {
                    CheckLevel(source, errors);
                }
            }
        }

        foreach (var levelSwitch in serilog.GetSection("LevelSwitches").GetChildren())
        {
            CheckLevel(levelSwitch, errors);
        }

        return errors;
    }

    private static void CheckLevel(IConfigurationSection node, List<string> errors)
    {
        string? value = node.Value;
        // "$name" refers to a level switch (Serilog:LevelSwitches), which is checked where it is defined.
        if (string.IsNullOrEmpty(value) || value.StartsWith('$')
            || (Enum.TryParse<LogEventLevel>(value, ignoreCase: true, out var level) && Enum.IsDefined(level) && !char.IsAsciiDigit(value[0])))
        {
            return;
        }

        errors.Add($"{node.Path} = '{value}' is not a log level: use {string.Join(", ", Levels)}{ClosestName.Suggest(value, Levels)}.");
    }

    /// <summary>
    /// Top-level keys given on the command line or in a JSON file must be ones the server reads:
    /// <c>--Realy:Listen:0=…</c> would otherwise be silently ignored. (Environment variables are
    /// not checked here: every variable of the process is a top-level key.)
    /// </summary>
    private static void CheckTopLevelKeys(IConfiguration configuration, List<string> errors)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return;
        }

        foreach (var provider in root.Providers)
        {
            string? where = provider switch
            {
                CommandLineConfigurationProvider => "on the command line",
                JsonConfigurationProvider json => $"in {json.Source.Path}",
                _ => null,
            };
            if (where is null)
            {
                continue;
            }

            foreach (string key in provider.GetChildKeys([], null).Distinct(StringComparer.OrdinalIgnoreCase))
            {
                if (!TopLevelKeys.Contains(key, StringComparer.OrdinalIgnoreCase))
                {
                    errors.Add($"{key} ({where}) is not a section or setting of this server{ClosestName.Suggest(key, TopLevelKeys)}; it reads {string.Join(", ", TopLevelKeys)}.");
                }
            }
        }
    }

    private static void CheckObject(IConfigurationSection section, Type type, object defaults, List<string> errors, ISet<string> unusable)
    {
        var properties = Settings(type);
        foreach (var child in section.GetChildren())
        {
            var property = properties.FirstOrDefault(p => p.Name.Equals(child.Key, StringComparison.OrdinalIgnoreCase));
            if (property is null)
            {
                string parent = section.Path;
                var names = properties.Select(p => p.Name).ToList();
                string hint = ClosestName.Find(child.Key, names) is { } match
                    ? $"did you mean {parent}:{match}?"
                    : $"{parent} has {string.Join(", ", names)}";
                errors.Add($"{child.Path} is not a setting: {hint}");
                unusable.Add(child.Path);
                continue;
            }

            CheckValue(child, property.PropertyType, property.GetValue(defaults), errors, unusable);
        }
    }

    private static void CheckValue(IConfigurationSection node, Type type, object? defaultValue, List<string> errors, ISet<string> unusable)
    {
        bool hasChildren = node.GetChildren().Any();
        if (ListItemType(type) is { } itemType)
        {
            if (!string.IsNullOrEmpty(node.Value))
            {
                errors.Add($"{node.Path} = '{node.Value}': {node.Path} is a list; write {node.Path}:0={node.Value} "
                    + $"(environment: {node.Path.Replace(":", "__", StringComparison.Ordinal)}__0).");
            }

            foreach (var item in node.GetChildren())
            {
                if (!int.TryParse(item.Key, NumberStyles.None, CultureInfo.InvariantCulture, out _))
                {
                    errors.Add($"{item.Path}: list items are numbered 0, 1, 2 …, not '{item.Key}'.");
                    unusable.Add(item.Path);
                }
                else
                {
                    CheckValue(item, itemType, itemType == typeof(string) ? null : Activator.CreateInstance(itemType), errors, unusable);
                }
            }

            return;
        }

        if (type != typeof(string) && type.IsClass)
        {
            if (!string.IsNullOrEmpty(node.Value))
            {
                errors.Add($"{node.Path} = '{node.Value}': {node.Path} is a section; give its keys, e.g. {node.Path}:{FirstSetting(type)}=…");
            }

            CheckObject(node, type, defaultValue ?? Activator.CreateInstance(type)!, errors, unusable);
            return;
        }

        if (hasChildren)
        {
            errors.Add($"{node.Path} takes one value, not keys below it ({string.Join(", ", node.GetChildren().Select(c => c.Key))}).");
            unusable.Add(node.Path);
            return;
        }

        if (node.Value is null || type == typeof(string))
        {
            return;
        }

        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (!Converts(target, node.Value))
        {
            errors.Add($"{node.Path} = '{node.Value}' {Accepted(target, defaultValue)}");
            unusable.Add(node.Path);
        }
    }

    /// <summary>As the binder converts: the type's converter, invariant culture.</summary>
    private static bool Converts(Type type, string value)
    {
        if (value.Length == 0)
        {
            return false;
        }

        try
        {
            TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException or InvalidCastException)
        {
            return false;
        }
        catch (Exception e) when (e.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Accepted(Type type, object? defaultValue)
    {
        string example = defaultValue switch
        {
            TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
            bool b => b ? "true" : "false",
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => defaultValue?.ToString() ?? string.Empty,
        };
        string what = type == typeof(TimeSpan) ? "is not a duration: write [d.]hh:mm:ss, e.g. 00:00:10 for ten seconds"
            : type == typeof(bool) ? "is not true or false"
            : type == typeof(int) || type == typeof(long) ? $"is not a whole number ({(type == typeof(int) ? int.MaxValue : long.MaxValue).ToString(CultureInfo.InvariantCulture)} at most)"
            : type == typeof(double) ? "is not a number (write 2.5, not 2,5)"
            : $"is not a {type.Name}";
        return example.Length == 0 ? $"{what}." : $"{what}; the default is {example}.";
    }

    private static PropertyInfo[] Settings(Type type)
        => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetSetMethod() is not null).ToArray();

    private static string FirstSetting(Type type) => Settings(type).First().Name;

    private static Type? ListItemType(Type type)
        => type.IsGenericType && type.GetGenericTypeDefinition() == typeof(List<>) ? type.GetGenericArguments()[0] : type.IsArray ? type.GetElementType() : null;
}
