/** One CloudWatch dashboard: per source, records, failures, duration, throttling and the DLQ depth. */

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { landedStreams, METRIC, METRICS_NAMESPACE, SERVICE_NAME, type SourceDefinition } from '../../functions/index.js';
import type { Alarms } from './Alarms.js';
import type { SourceIngestion } from './SourceIngestion.js';

/** Properties of a {@link Dashboard}. */
export interface DashboardProps {
  readonly dashboardName: string;
  readonly sources: readonly { readonly definition: SourceDefinition; readonly ingestion: SourceIngestion }[];
  readonly alarms: Alarms;
}

export class Dashboard extends Construct {
  readonly dashboard: cloudwatch.Dashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { dashboardName: props.dashboardName, defaultInterval: Duration.days(7) });
    const metric = (name: string, source: string, stream: string, statistic = 'Sum') =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME, source, stream },
        statistic,
        period: Duration.hours(1),
        label: `${source}.${stream}`,
      });

    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Failures', alarms: [props.alarms.failedInvocationsAlarm, props.alarms.undeliveredTicksAlarm], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues (visible messages)',
        left: [
          props.alarms.failedInvocations.metricApproximateNumberOfMessagesVisible({ label: 'failed invocations' }),
          props.alarms.undeliveredTicks.metricApproximateNumberOfMessagesVisible({ label: 'undelivered ticks' }),
        ],
        width: 16,
      }),
    );
    for (const { definition, ingestion } of props.sources) {
      const per = (name: string, statistic?: string) => landedStreams(definition).map((s) => metric(name, definition.name, s.name, statistic));
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({ title: `${definition.name}: records landed`, left: per(METRIC.records), width: 6 }),
        new cloudwatch.GraphWidget({
          title: `${definition.name}: errors`,
          left: [...per(METRIC.windowsFailed), ingestion.function.metricErrors({ label: 'function errors' })],
          width: 6,
        }),
        new cloudwatch.GraphWidget({
          title: `${definition.name}: duration`,
          left: per(METRIC.windowDuration, 'Maximum'),
          right: [ingestion.function.metricDuration({ statistic: 'Maximum', label: 'invocation (max)' })],
          width: 6,
        }),
        new cloudwatch.GraphWidget({ title: `${definition.name}: throttled responses and retries`, left: [...per(METRIC.throttled), ...per(METRIC.retries)], width: 6 }),
      );
    }
  }
}
