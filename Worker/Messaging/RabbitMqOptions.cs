using System.ComponentModel.DataAnnotations;
using RabbitMQ.Client;

namespace JobWorker.Messaging;

/// <summary>The broker. Section <c>RabbitMq</c>. Set the password through <c>RabbitMq__Password</c> or a secret store.</summary>
internal sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    [Required(AllowEmptyStrings = false, ErrorMessage = "RabbitMq:Host is required.")]
    public string Host { get; set; } = "127.0.0.1";

    [Range(1, 65535, ErrorMessage = "RabbitMq:Port must be between 1 and 65535.")]
    public int Port { get; set; } = 5672;

    [Required(AllowEmptyStrings = false, ErrorMessage = "RabbitMq:VirtualHost is required.")]
    public string VirtualHost { get; set; } = "/";

    [Required(AllowEmptyStrings = false, ErrorMessage = "RabbitMq:Username is required.")]
    public string Username { get; set; } = "guest";

    /// <summary>Defaults to RabbitMQ's built-in <c>guest</c>, which the broker accepts from loopback only.</summary>
    public string Password { get; set; } = "guest";

    /// <summary>
    /// The longest any publish or send may wait for the broker's confirm. A publish that hits it is treated as failed: an
    /// event is published again later, a dispatched job sent again at a later tick. Nothing waits on the broker longer.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "RabbitMq:PublishTimeout must be between 100 ms and 5 min.")]
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A plain RabbitMQ.Client connection on these settings, for what MassTransit does not offer (queue depths, removing
    /// bindings): no automatic recovery, its caller replaces it when it breaks; opening it waits at most <see cref="PublishTimeout"/>.
    /// </summary>
    public ConnectionFactory CreateConnectionFactory(string clientName) => new()
    {
        HostName = Host,
        Port = Port,
        VirtualHost = VirtualHost,
        UserName = Username,
        Password = Password,
        ClientProvidedName = clientName,
        RequestedConnectionTimeout = PublishTimeout,
        AutomaticRecoveryEnabled = false,
    };
}
