using System.Text.Json;
using System.Text.RegularExpressions;

namespace Socks5UdpRelay.Server.Hosting;

/// <summary>
/// Says what is wrong with a configuration file the way an editor would jump to it:
/// <c>FILE:LINE:COLUMN: problem</c>. The JSON provider's own message names the file only; the
/// line and column are in its inner exception, counted from 0.
/// </summary>
internal static partial class ConfigurationFileError
{
    public static string Describe(Exception e)
    {
        string? file = FileName().Match(e.Message) is { Success: true } m ? m.Groups[1].Value : (e as FileNotFoundException)?.FileName;
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is JsonException { LineNumber: { } line, BytePositionInLine: { } column } json)
            {
                string problem = Position().Replace(json.Message, string.Empty).Trim();
                return $"{file ?? "configuration"}:{line + 1}:{column + 1}: {problem}";
            }
        }

        return e is FileNotFoundException
            ? $"{file ?? e.Message}: not found. Put appsettings.json in ./config, beside the binary in config/, or in the folder ${RelayHost.ConfigDirectoryVariable} names."
            : $"Configuration could not be read: {e.Message}{(e.InnerException is { } i ? $" ({i.Message})" : string.Empty)}";
    }

    [GeneratedRegex("file '([^']+)'")]
    private static partial Regex FileName();

    [GeneratedRegex(@"\s*(Path: \S*)?\s*\|?\s*LineNumber: \d+ \| BytePositionInLine: \d+\.?")]
    private static partial Regex Position();
}
