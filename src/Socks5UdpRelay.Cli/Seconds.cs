using System.CommandLine;
using System.Globalization;

namespace Socks5UdpRelay.Cli;

/// <summary>Options that take a duration in seconds, fractions allowed (0.5), checked at parse time.</summary>
internal static class Seconds
{
    /// <summary>A day: long enough for any wait a person means, short enough that TimeSpan arithmetic cannot overflow.</summary>
    private const double Max = 86_400;

    public static Option<double> Create(string name, string? alias, string description, double defaultValue, bool allowZero)
    {
        var option = new Option<double>(name, alias is null ? [] : [alias])
        {
            Description = description,
            HelpName = "seconds",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                string text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : string.Empty;
                if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value)
                    || value > Max || (!allowZero && value == 0))
                {
                    result.AddError($"{name}: '{text}' is not a number of seconds ({(allowZero ? "0" : "more than 0")} to {Max}).");
                    return defaultValue;
                }

                return value;
            },
        };
        return option;
    }

    public static TimeSpan ToTimeSpan(double seconds) => TimeSpan.FromSeconds(seconds);
}
