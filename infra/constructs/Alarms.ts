/** Where failures go and who hears about them: the dead-letter queues, their alarms, optional email. */

import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** Properties of {@link Alarms}. */
export interface AlarmsProps {
  /**
   * An email address subscribed to the alarm topic.
   * @default no subscription (the topic is still created, to subscribe later)
   */
  readonly email?: string;
  /**
   * How long a failed invocation waits in the queue for a redrive.
   * @default Duration.days(14)
   */
  readonly retention?: Duration;
}

/** The failure queues and their alarms, shared by every source. */
export class Alarms extends Construct {
  /** Invocations that failed inside the function after Lambda's retries (on-failure destination). */
  readonly failedInvocations: sqs.Queue;
  /** Schedule ticks that EventBridge Scheduler could not deliver to a function. */
  readonly undeliveredTicks: sqs.Queue;
  readonly topic: sns.Topic;
  readonly failedInvocationsAlarm: cloudwatch.Alarm;
  readonly undeliveredTicksAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: AlarmsProps = {}) {
    super(scope, id);
    const queue = (queueId: string) => {
      const q = new sqs.Queue(this, queueId, {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: props.retention ?? Duration.days(14),
      });
      Validations.of(q).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is itself a dead-letter queue.' });
      return q;
    };
    this.failedInvocations = queue('FailedInvocations');
    this.undeliveredTicks = queue('UndeliveredTicks');

    this.topic = new sns.Topic(this, 'Topic', { enforceSSL: true });
    Validations.of(this.topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason: 'Alarm notifications carry only the alarm name and state, no data; a customer key would add cost without protecting anything.',
    });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    // The description is what the on-call engineer reads first: the exact commands for this queue.
    const alarmOn = (alarmId: string, q: sqs.Queue, what: string, queue: 'failed' | 'undelivered') => {
      const alarm = q.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }).createAlarm(this, alarmId, {
        alarmDescription: `${what}: see why with \`apilake redrive --queue ${queue} --dry-run\`, fix the cause, then \`apilake redrive --queue ${queue}\` (deletes each message only when its re-run succeeds).`,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(new actions.SnsAction(this.topic));
      return alarm;
    };
    this.failedInvocationsAlarm = alarmOn('FailedInvocationsAlarm', this.failedInvocations, 'A source invocation failed after Lambda retries, or expired in its queue', 'failed');
    this.undeliveredTicksAlarm = alarmOn('UndeliveredTicksAlarm', this.undeliveredTicks, 'A schedule tick could not be delivered to its function', 'undelivered');
  }
}
