import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;

/**
 * Starts DynamoDB Local bound to 127.0.0.1 only. The stock launcher has no
 * host option and listens on every interface, so this one sets the host of
 * the Jetty connector before the server starts. It also exits when its
 * standard input closes, so a parent that dies without cleaning up never
 * leaves the JVM behind. Arguments are DynamoDB Local's own (-port, -inMemory,
 * -dbPath, -sharedDb, -disableTelemetry); telemetry setup is skipped.
 *
 * Run as a single-file source program (java 11 or later):
 * java -Djava.library.path=DIR/DynamoDBLocal_lib -cp DIR/DynamoDBLocal.jar DynamoDBLocalLoopback.java ARGS
 */
public class DynamoDBLocalLoopback {
	public static void main(String[] args) throws Exception {
		DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
		var serverField = DynamoDBProxyServer.class.getDeclaredField("server");
		serverField.setAccessible(true);
		Server server = (Server) serverField.get(proxy);
		for (Connector connector : server.getConnectors()) {
			((ServerConnector) connector).setHost("127.0.0.1");
		}

		Thread parentWatch = new Thread(() -> {
			try {
				while (System.in.read() != -1) {
					// Input is ignored; only end of input matters.
				}
			} catch (Exception ignored) {
				// A broken pipe means the parent is gone, same as end of input.
			}
			System.exit(0);
		});
		parentWatch.setDaemon(true);
		parentWatch.start();

		proxy.start();
	}
}
