package io.keyshift.plan;

import io.keyshift.route.KeyshiftRouter;
import io.keyshift.route.RouterCoordinator;

import org.apache.flink.runtime.jobgraph.OperatorID;
import org.apache.flink.runtime.operators.coordination.OperatorCoordinator;
import org.apache.flink.runtime.operators.coordination.OperatorEventDispatcher;
import org.apache.flink.streaming.api.operators.ChainingStrategy;
import org.apache.flink.streaming.api.operators.CoordinatedOperatorFactory;
import org.apache.flink.streaming.api.operators.OneInputStreamOperatorFactory;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorParameters;

/**
 * Operator factories of the router and the planner, which talk through their operator coordinators (see
 * {@link PlanChannel}). Both chain: the router to the user's stream, the planner to the forecaster when it has no
 * control input (with one it is a two-input operator, a task of its own).
 */
public final class CoordinatedOperators {
    private CoordinatedOperators() {}

    /** The router's factory. */
    public static <T, K> OneInputStreamOperatorFactory<T, io.keyshift.route.Envelope<T, K>> router(
            KeyshiftRouter<T, K> router, String uidPrefix) {
        return new RouterFactory<>(router, PlanChannel.storeKey(uidPrefix));
    }

    /** The planner's factory. */
    public static OneInputStreamOperatorFactory<io.keyshift.avro.LoadForecast, io.keyshift.avro.RoutingPlan> planner(
            PlannerOperator planner, String uidPrefix) {
        return new PlannerFactory(planner, PlanChannel.storeKey(uidPrefix));
    }

    private static final class RouterFactory<T, K> extends SimpleOperatorFactory<io.keyshift.route.Envelope<T, K>>
            implements CoordinatedOperatorFactory<io.keyshift.route.Envelope<T, K>>,
            OneInputStreamOperatorFactory<T, io.keyshift.route.Envelope<T, K>> {
        private static final long serialVersionUID = 1L;
        private final String storeKey;

        RouterFactory(KeyshiftRouter<T, K> operator, String storeKey) {
            super(operator);
            this.storeKey = storeKey;
            setChainingStrategy(ChainingStrategy.ALWAYS);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <O extends StreamOperator<io.keyshift.route.Envelope<T, K>>> O createStreamOperator(
                StreamOperatorParameters<io.keyshift.route.Envelope<T, K>> parameters) {
            KeyshiftRouter<T, K> op = super.createStreamOperator(parameters);
            OperatorID id = parameters.getStreamConfig().getOperatorID();
            OperatorEventDispatcher dispatcher = parameters.getOperatorEventDispatcher();
            dispatcher.registerEventHandler(id, op);
            op.setCoordinatorGateway(dispatcher.getOperatorEventGateway(id));
            return (O) op;
        }


        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(String operatorName, OperatorID operatorID) {
            return new RouterCoordinator.Provider(operatorID, storeKey);
        }
    }

    /** The factory of a planner with a control input ({@link PlannerOperator#withControl}). */
    public static org.apache.flink.streaming.api.operators.TwoInputStreamOperatorFactory<io.keyshift.avro.LoadForecast,
            String, io.keyshift.avro.RoutingPlan> controlledPlanner(PlannerOperator planner, String uidPrefix) {
        return new PlannerFactory(planner, PlanChannel.storeKey(uidPrefix));
    }

    private static final class PlannerFactory extends SimpleOperatorFactory<io.keyshift.avro.RoutingPlan>
            implements CoordinatedOperatorFactory<io.keyshift.avro.RoutingPlan>,
            OneInputStreamOperatorFactory<io.keyshift.avro.LoadForecast, io.keyshift.avro.RoutingPlan>,
            org.apache.flink.streaming.api.operators.TwoInputStreamOperatorFactory<io.keyshift.avro.LoadForecast,
                    String, io.keyshift.avro.RoutingPlan> {
        private static final long serialVersionUID = 1L;
        private final String storeKey;

        PlannerFactory(PlannerOperator operator, String storeKey) {
            super(operator);
            this.storeKey = storeKey;
            setChainingStrategy(ChainingStrategy.ALWAYS);
        }

        @Override
        @SuppressWarnings("unchecked")
        public <O extends StreamOperator<io.keyshift.avro.RoutingPlan>> O createStreamOperator(
                StreamOperatorParameters<io.keyshift.avro.RoutingPlan> parameters) {
            PlannerOperator op = super.createStreamOperator(parameters);
            OperatorID id = parameters.getStreamConfig().getOperatorID();
            OperatorEventDispatcher dispatcher = parameters.getOperatorEventDispatcher();
            dispatcher.registerEventHandler(id, op);
            op.setGateway(dispatcher.getOperatorEventGateway(id));
            return (O) op;
        }


        @Override
        public OperatorCoordinator.Provider getCoordinatorProvider(String operatorName, OperatorID operatorID) {
            return new PlannerCoordinator.Provider(operatorID, storeKey);
        }
    }

}
