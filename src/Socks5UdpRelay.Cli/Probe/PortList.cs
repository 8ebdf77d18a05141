using System.CommandLine.Parsing;

namespace Socks5UdpRelay.Cli.Probe;

/// <summary>
/// PORTS as nc and nmap take them: <c>53</c>, <c>500-600</c>, <c>1,2,3</c>, several arguments
/// allowed. The result is sorted and without duplicates.
/// </summary>
internal static class PortList
{
    public static int[] Parse(ArgumentResult result)
    {
        var ports = new SortedSet<int>();
        foreach (var token in result.Tokens)
        {
            // PORTS takes any number of values, so the parser hands it unknown options too.
            if (token.Value.StartsWith('-') && token.Value.Length > 1 && !char.IsAsciiDigit(token.Value[1]))
            {
                result.AddError($"Unrecognized option '{token.Value}'.");
                continue;
            }

            if (!TryParse(token.Value, ports, out string? error))
            {
                result.AddError($"PORTS: {error}");
            }
        }

        return [.. ports];
    }

    /// <summary>Adds the ports of one argument; false with a message naming the bad part.</summary>
    public static bool TryParse(string text, ISet<int> ports, out string? error)
    {
        error = null;
        foreach (string part in text.Split(','))
        {
            int dash = part.IndexOf('-');
            if (dash < 0)
            {
                if (!PortArgument.TryParse(part, out int port))
                {
                    error = $"'{part}' is not a UDP port (1 to 65535).";
                    return false;
                }

                ports.Add(port);
                continue;
            }

            if (!PortArgument.TryParse(part.AsSpan(0, dash), out int first) || !PortArgument.TryParse(part.AsSpan(dash + 1), out int last))
            {
                error = $"'{part}' is not a port range (FIRST-LAST, each 1 to 65535).";
                return false;
            }

            if (first > last)
            {
                error = $"'{part}' is a reversed range: write {last}-{first}.";
                return false;
            }

            for (int port = first; port <= last; port++)
            {
                ports.Add(port);
            }
        }

        return true;
    }
}
