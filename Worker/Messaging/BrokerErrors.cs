using System.Net.Sockets;
using JobWorker.Resilience;
using MassTransit;
using RabbitMQ.Client.Exceptions;

namespace JobWorker.Messaging;

/// <summary>Recognises a broker that cannot be reached, by the exceptions' types: their texts differ by version and case.</summary>
internal static class BrokerErrors
{
    public static bool IsUnreachable(Exception exception) =>
        ExceptionChain.Find<RabbitMqConnectionException>(exception) is not null
        || ExceptionChain.Find<BrokerUnreachableException>(exception) is not null
        || ExceptionChain.Find<ConnectFailureException>(exception) is not null;

    /// <summary>Why, in a few words an operator can act on: the socket's answer when there is one.</summary>
    public static string Reason(Exception exception) =>
        ExceptionChain.Find<SocketException>(exception)?.Message
        ?? ExceptionChain.Find<BrokerUnreachableException>(exception)?.Message
        ?? ExceptionChain.Innermost(exception).Message;
}
