package io.keyshift.jobs.docs;

import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.xml.parsers.DocumentBuilderFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * bin/keyshift builds with {@code mvn package -Dmaven.test.skip=true}, which makes no test jar of any module, and Maven
 * still resolves test-scoped dependencies: a module that depends on another keyshift module's test jar outside a
 * profile off under that property fails the launcher's first build on a machine without an installed keyshift (a
 * fresh clone: "Could not find artifact io.keyshift:keyshift-operators:jar:tests").
 */
class LauncherBuildTest {

    @Test
    void noModuleNeedsAKeyshiftTestJarWhenTestsAreSkipped() throws Exception {
        Path root = Path.of("..").toAbsolutePath().normalize();
        var factory = DocumentBuilderFactory.newInstance();
        var rootPom = factory.newDocumentBuilder().parse(root.resolve("pom.xml").toFile());
        NodeList modules = rootPom.getElementsByTagName("module");
        assertThat(modules.getLength()).isGreaterThanOrEqualTo(3);
        List<String> offending = new ArrayList<>();
        for (int i = 0; i < modules.getLength(); i++) {
            String module = modules.item(i).getTextContent().strip();
            Path pom = root.resolve(module).resolve("pom.xml");
            assertThat(pom).exists();
            Element project = factory.newDocumentBuilder().parse(pom.toFile()).getDocumentElement();
            for (Element deps : children(project, "dependencies")) {
                for (Element d : children(deps, "dependency")) {
                    if ("io.keyshift".equals(text(d, "groupId")) && "test-jar".equals(text(d, "type"))) {
                        offending.add(module + ": " + text(d, "artifactId"));
                    }
                }
            }
        }
        assertThat(offending).as("keyshift test jars among a module's own dependencies (put them in a profile "
                + "activated by !maven.test.skip, as jobs/pom.xml does)").isEmpty();
    }

    private static List<Element> children(Element parent, String name) {
        List<Element> out = new ArrayList<>();
        for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(name)) {
                out.add(e);
            }
        }
        return out;
    }

    private static String text(Element parent, String name) {
        List<Element> c = children(parent, name);
        return c.isEmpty() ? null : c.get(0).getTextContent().strip();
    }
}
